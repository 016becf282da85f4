using System.Net;
using Microsoft.AspNetCore.Builder;
using Midia.Trust;

namespace Midia.Interop.Server;

/// <summary>
/// <see cref="InteropTestService"/> on the network server every node and coordinator runs
/// (trust/'s <see cref="NetworkServer"/>: Kestrel, HTTP/2 over mutual TLS, certificate
/// authentication, authorization rules, health and reflection), on 127.0.0.1.
/// </summary>
public sealed class InteropTestHost : IAsyncDisposable
{
    readonly WebApplication app;

    InteropTestHost(WebApplication app, Uri address)
    {
        this.app = app;
        Address = address;
    }

    public Uri Address { get; }
    public int Port => Address.Port;
    public IServiceProvider Services => app.Services;

    /// <param name="configure">Changes before the app is built (tests: a log to read).</param>
    public static async Task<InteropTestHost> StartAsync(TlsMaterial tls, int port = 0, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "midia-interop" });
        builder.AddNetworkServer(new NetworkServerOptions { Listen = new IPEndPoint(IPAddress.Loopback, port), Tls = tls });
        configure?.Invoke(builder);
        var app = builder.Build();
        app.UseNetworkServer();
        app.MapNetworkService<InteropTestService>();
        try
        {
            return new InteropTestHost(app, await app.StartNetworkServerAsync());
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
