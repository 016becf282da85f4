using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Midia.CertsDev;
using Midia.Coordinator.Serve;
using Midia.Node.Serve;
using Midia.Trust;

namespace Midia.Bench;

/// <summary>
/// What every benchmark's loopback network needs: free ports, dev certificates, the node and the
/// coordinator started exactly as `serve` wires them (Kestrel, mutual TLS), scripted sites on the
/// same network server, and a timed loop.
/// </summary>
static class Loopback
{
    const int Lowest = 10_000, BelowEphemeral = 32_768;

    /// <summary>
    /// A port for a server that must be named before it binds (a sites file, a child process's
    /// --listen). Taken below the kernel's ephemeral range (32768–60999 on Linux), where an outgoing
    /// connection of another process on the machine could be given it before the server binds;
    /// servers that need no name in advance bind port 0 instead.
    /// </summary>
    public static int FreePort()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(Lowest, BelowEphemeral);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException) { }
        }
        throw new InvalidOperationException($"no free port on 127.0.0.1 between {Lowest} and {BelowEphemeral}");
    }

    /// <summary>A certificate for that role from the benchmark's throw-away CA, trusting only that CA.</summary>
    public static TlsMaterial Material(X509Certificate2 authority, string role, string name, string? site = null)
    {
        using var certificate = DevCertificates.Issue(authority, role, name, site);
        return new TlsMaterial(certificate, [X509CertificateLoader.LoadCertificate(authority.RawData)]);
    }

    /// <summary>The same, disposed with the others in <paramref name="disposables"/>.</summary>
    public static TlsMaterial Material(X509Certificate2 authority, string role, string name, string? site, List<IDisposable> disposables)
    {
        var material = Material(authority, role, name, site);
        disposables.Add(material);
        return material;
    }

    /// <summary>
    /// The node as `midia-node serve` wires it (<see cref="NodeServer.Create"/>), listening; its
    /// console log off, as the benchmark prints tables. <paramref name="configure"/> overrides registrations after that.
    /// </summary>
    public static Task<Running> StartNodeAsync(NodeSettings settings, Action<WebApplicationBuilder>? configure = null) =>
        Running.StartAsync(NodeServer.Create(settings, configure: builder =>
        {
            Quiet(builder);
            configure?.Invoke(builder);
        }));

    /// <summary>The coordinator as `midia-coordinator serve` wires it (<see cref="CoordinatorServer.Create"/>), listening, its console log off.</summary>
    public static Task<Running> StartCoordinatorAsync(CoordinatorSettings settings) =>
        Running.StartAsync(CoordinatorServer.Create(settings, Quiet));

    /// <summary>
    /// A scripted site: <paramref name="service"/> (a generated service base with its rules) alone on
    /// the network server every node runs — Kestrel, mutual TLS, authorization — on a port of its own.
    /// </summary>
    public static Task<Running> StartScriptedAsync<TService>(TlsMaterial tls, string site, TService service) where TService : class
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "midia-bench-site" });
        builder.AddNetworkServer(new NetworkServerOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), Tls = tls, Site = site });
        builder.Services.AddSingleton(service);
        var app = builder.Build();
        app.UseNetworkServer();
        app.MapNetworkService<TService>();
        return Running.StartAsync(app);
    }

    static void Quiet(WebApplicationBuilder builder) => builder.Logging.ClearProviders();

    /// <summary>Milliseconds per call after <paramref name="warmup"/> untimed calls (given -1, -2, …; timed calls get 0, 1, …).</summary>
    public static async Task<List<double>> TimeAsync(int iterations, int warmup, Func<int, Task> action)
    {
        for (var i = 0; i < Math.Min(warmup, iterations); i++) await action(-1 - i);
        var times = new List<double>(iterations);
        for (var i = 0; i < iterations; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await action(i);
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        return times;
    }
}

/// <summary>A started server of the benchmark's network: its services and the address it answers at (the real port for port 0).</summary>
sealed class Running : IAsyncDisposable
{
    Running(WebApplication app, Uri address) => (App, Address) = (app, address);

    public WebApplication App { get; }
    public Uri Address { get; }

    /// <summary>One of the server's own singletons (the node's NetworkConsent, ConsentSync, ...).</summary>
    public T Service<T>() where T : notnull => App.Services.GetRequiredService<T>();

    public static async Task<Running> StartAsync(WebApplication app)
    {
        try
        {
            return new Running(app, await app.StartNetworkServerAsync());
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops as Ctrl-C stops `serve` (running calls get the shutdown timeout), then releases everything.</summary>
    public async ValueTask DisposeAsync()
    {
        try { await App.StopAsync(); }
        finally { await App.DisposeAsync(); }
    }
}
