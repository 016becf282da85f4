using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Midia.Rpc.Server;
using Midia.Rpc.Tls;

namespace Midia.Interop.TestService;

/// <summary>Our server with <see cref="InteropTestService"/> (plus the standard health and reflection) on 127.0.0.1.</summary>
public sealed class InteropTestHost : IAsyncDisposable
{
    readonly RpcServer server;

    InteropTestHost(RpcServer server) => this.server = server;

    public int Port => server.Port;

    public static async Task<InteropTestHost> StartAsync(TlsMaterial tls, int port = 0, ILoggerFactory? logging = null)
    {
        var server = new RpcServer(new RpcServerOptions { Listen = new IPEndPoint(IPAddress.Loopback, port), Tls = tls }, logging ?? NullLoggerFactory.Instance);
        try
        {
            server.AddService(InteropTestService.Descriptor, new InteropTestService());
            await server.StartAsync();
            return new InteropTestHost(server);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => server.DisposeAsync();
}
