using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Midia.Testing;

namespace Midia.Trust.Tests.Support;

/// <summary>The network server with the probe service: in memory where the socket is not the point, on Kestrel over mutual TLS where it is.</summary>
public static class ProbeServers
{
    /// <summary>Built and mapped, not started (a test may start it without the rule check).</summary>
    public static WebApplication Create(NetworkServerOptions options, bool inMemory, RecordingLoggerProvider? log = null,
        Action<WebApplication>? map = null, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "trust-tests" });
        builder.AddNetworkServer(options);
        builder.Logging.ClearProviders();
        if (log is not null) builder.Logging.AddProvider(log);
        if (inMemory) InMemoryServers.InMemory(builder);
        configure?.Invoke(builder);
        var app = builder.Build();
        app.UseNetworkServer();
        app.MapNetworkService<ProbeService>();
        map?.Invoke(app);
        return app;
    }

    public static NetworkServerOptions Options(TlsMaterial tls, string? site = "erlangen", int port = 0) =>
        new() { Listen = new IPEndPoint(IPAddress.Loopback, port), Tls = tls, Site = site };
}
