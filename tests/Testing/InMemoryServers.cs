using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;

namespace Midia.Testing;

/// <summary>
/// A node or coordinator on ASP.NET's in-memory TestServer, where a socket is not the point: the
/// same pipeline (certificate authentication, delegation, authorization, interceptors, services),
/// with the client certificate a real TLS handshake would have presented set on each call's connection.
/// </summary>
public static class InMemoryServers
{
    /// <summary>Pass as the server's <c>configure</c>: no Kestrel, no port.</summary>
    public static void InMemory(WebApplicationBuilder builder) => builder.WebHost.UseTestServer();

    /// <summary>A channel into the in-memory server whose calls come with <paramref name="clientCertificate"/>.</summary>
    public static GrpcChannel Channel(this WebApplication app, X509Certificate2 clientCertificate) =>
        GrpcChannel.ForAddress("https://localhost", new GrpcChannelOptions
        {
            HttpHandler = app.GetTestServer().CreateHandler(context => context.Connection.ClientCertificate = clientCertificate),
            DisposeHttpClient = true,
        });
}
