using System.Collections.Frozen;
using System.Security.Authentication;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Midia.Rpc.Health;
using Midia.Rpc.Reflection;
using Midia.Rpc.Tls;

namespace Midia.Rpc.Server;

/// <summary>
/// A gRPC server on Kestrel: HTTP/2 only, mutual TLS required in the handshake, the bound
/// services plus health and reflection. Add services, then Start; Stop drains running calls.
/// </summary>
public sealed class RpcServer : IAsyncDisposable
{
    readonly RpcServerOptions options;
    readonly ILoggerFactory loggerFactory;
    readonly ILogger logger;
    readonly List<ServiceDescriptor> services = [];
    readonly Dictionary<string, ServerCallHandler> handlers = new(StringComparer.Ordinal);
    readonly CancellationTokenSource stopping = new();
    WebApplication? app;

    public RpcServer(RpcServerOptions options, ILoggerFactory? loggerFactory = null)
    {
        this.options = options;
        this.loggerFactory = loggerFactory ?? Hosting.RpcLogging.CreateConsoleFactory();
        logger = this.loggerFactory.CreateLogger("Midia.Rpc.Server");
        Health = new HealthService(stopping.Token);
    }

    /// <summary>The standard health service of this server; set a service's status here.</summary>
    public HealthService Health { get; }
    public IReadOnlyList<ServiceDescriptor> Services => services;
    /// <summary>https://host:port once started (the real port when listening on port 0).</summary>
    public Uri Address { get; private set; } = new("https://unstarted");
    public int Port => Address.Port;

    /// <summary>Binds an implementation to a service descriptor (see <see cref="ServiceBinding"/>); fails on any mistake.</summary>
    public void AddService(ServiceDescriptor service, object implementation)
    {
        if (app is not null) throw new InvalidOperationException("add services before starting the server");
        if (services.Any(s => s.FullName == service.FullName)) throw new InvalidOperationException($"service {service.FullName} is already bound");
        var bound = ServiceBinding.Bind(service, implementation, options, loggerFactory.CreateLogger(service.FullName)).ToList();
        foreach (var handler in bound) handlers.Add(handler.FullName, handler);
        services.Add(service);
        if (service.FullName != HealthService.Descriptor.FullName) Health.SetStatus(service.FullName, Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving);
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (app is not null) throw new InvalidOperationException("the server is already started");
        if (!handlers.ContainsKey($"/{HealthService.Descriptor.FullName}/Check")) AddStandardServices();
        await StartKestrelAsync(cancellationToken).ConfigureAwait(false);
    }

    void AddStandardServices()
    {
        AddService(HealthService.Descriptor, Health);
        var reflection = new ReflectionService([.. services, ReflectionService.DescriptorV1, ReflectionService.DescriptorV1Alpha]);
        AddService(ReflectionService.DescriptorV1, reflection);
        AddService(ReflectionService.DescriptorV1Alpha, new ReflectionV1AlphaService(reflection));
    }

    async Task StartKestrelAsync(CancellationToken cancellationToken)
    {
        var dispatcher = new CallDispatcher(handlers.ToFrozenDictionary(StringComparer.Ordinal),
            services.Select(s => s.FullName).ToFrozenSet(StringComparer.Ordinal));
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.Replace(Microsoft.Extensions.DependencyInjection.ServiceDescriptor.Singleton(loggerFactory));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(ConfigureKestrel);
        app = builder.Build();
        app.Run(dispatcher.DispatchAsync);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            app = null;
            var why = e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException ? "the address is already in use" : e.Message;
            throw new Hosting.CommandException($"cannot listen on {options.Listen}: {why}");
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Address = new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal).Replace("0.0.0.0", "localhost", StringComparison.Ordinal));
        ServerLog.Listening(logger, Address.ToString().TrimEnd('/'), string.Join(", ", services.Select(s => s.FullName)));
    }

    void ConfigureKestrel(KestrelServerOptions kestrel)
    {
        kestrel.AddServerHeader = false;
        var limits = kestrel.Limits;
        // gRPC bodies are streams: no total size, no minimum rate (a quiet stream is legitimate).
        limits.MaxRequestBodySize = null;
        limits.MinRequestBodyDataRate = null;
        limits.MinResponseDataRate = null;
        limits.Http2.InitialStreamWindowSize = options.InitialStreamWindowSize;
        limits.Http2.InitialConnectionWindowSize = options.InitialConnectionWindowSize;
        limits.Http2.MaxStreamsPerConnection = options.MaxStreamsPerConnection;
        limits.Http2.KeepAlivePingDelay = TimeSpan.FromMinutes(1);
        limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(20);
        kestrel.Listen(options.Listen, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            listen.UseHttps(https =>
            {
                https.ServerCertificate = options.Tls.Certificate;
                https.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
                // Asked for in the handshake: HTTP/2 forbids renegotiating for it later.
                https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                https.CheckCertificateRevocation = false;
                https.ClientCertificateValidation = (certificate, _, _) =>
                {
                    if (options.Tls.ValidatePeer(certificate, PeerKind.Client, null, out var problem)) return true;
                    ServerLog.ClientCertificateRefused(logger, problem);
                    return false;
                };
            });
        });
    }

    /// <summary>Marks every service NOT_SERVING, ends health watches, lets running calls finish (up to ShutdownTimeout).</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (app is null || stopping.IsCancellationRequested) return;
        Health.SetAllNotServing();
        await stopping.CancelAsync().ConfigureAwait(false);
        await app.StopAsync(cancellationToken).ConfigureAwait(false);
        ServerLog.Stopped(logger, Address.ToString().TrimEnd('/'));
    }

    /// <summary>Runs until the token fires (Ctrl-C / SIGTERM in an executable), then stops gracefully.</summary>
    public async Task RunUntilCancelledAsync(CancellationToken cancellationToken)
    {
        try { await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        if (app is not null) await app.DisposeAsync().ConfigureAwait(false);
        stopping.Dispose();
    }
}
