using System.Net;
using System.Security.Authentication;
using Grpc.AspNetCore.Server;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Midia.Hosting;

namespace Midia.Trust;

/// <summary>Where a server of the network listens, who it is, and the limits it keeps.</summary>
public sealed class NetworkServerOptions
{
    /// <summary>The endpoint; port 0 picks a free port (see <see cref="NetworkServer.StartNetworkServerAsync"/>).</summary>
    public IPEndPoint Listen { get; set; } = new(IPAddress.Loopback, 0);
    /// <summary>This server's certificate and the network CA; clients must present a certificate it accepts.</summary>
    public TlsMaterial Tls { get; set; } = null!;
    /// <summary>The site this server belongs to (a node's), for the own-site rules; null for the coordinator.</summary>
    public string? Site { get; set; }
    /// <summary>Whom a front end may act for (end-user metadata); null refuses every call that carries it.</summary>
    public Delegation? Delegation { get; set; } = Delegation.Portal;
    /// <summary>Largest incoming message (after decompression); larger is RESOURCE_EXHAUSTED. 4 MiB as grpc-dotnet.</summary>
    public int MaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;
    public int MaxStreamsPerConnection { get; set; } = 1000;
    // Kestrel's defaults (96 KB stream, 128 KB connection) throttle large messages.
    public int InitialStreamWindowSize { get; set; } = 1024 * 1024;
    public int InitialConnectionWindowSize { get; set; } = 2 * 1024 * 1024;
    /// <summary>How long a stop waits for running calls (below System.CommandLine's 2 s Ctrl-C grace).</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(1.5);
}

/// <summary>
/// The one way a node or coordinator accepts calls: Kestrel, HTTP/2 over TLS 1.2/1.3 only, a
/// client certificate of the network CA required in the handshake; grpc-dotnet with the 4 MiB
/// receive limit, health (grpc.health.v1) and reflection (v1 and v1alpha); certificate
/// authentication, portal delegation, and an explicit authorization rule on every RPC — an RPC
/// without one is refused and stops the server from starting.
/// </summary>
public static partial class NetworkServer
{
    public static WebApplicationBuilder AddNetworkServer(this WebApplicationBuilder builder, NetworkServerOptions server)
    {
        builder.Services.AddSingleton(Options.Create(server));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = server.ShutdownTimeout);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => Configure(kestrel, server));
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = server.MaxReceiveMessageSize;
            grpc.Interceptors.Add<RequestIds>();              // a refused call has its id too
            grpc.Interceptors.Add<AuthorizationRefusals>();   // then nothing of a service runs for a refused call
        });
        // Interceptors live as long as the server (grpc-dotnet would otherwise make them per call).
        builder.Services.AddSingleton<AuthorizationRefusals>();
        builder.Services.AddSingleton<RequestIds>();
        builder.Services.AddGrpcReflection();
        builder.Services.AddSingleton<HealthServiceImpl>();
        builder.Services.AddNetworkAuthentication(server.Tls);
        builder.Services.AddSingleton<IAuthorizationHandler, NetworkAuthorizationHandler>();
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, GrpcAuthorizationResults>();
        builder.Services.AddAuthorizationBuilder()
            // No scheme on the policies: they judge the principal delegation made, not a fresh certificate one.
            .SetDefaultPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().AddRequirements(new NoRuleRequirement()).Build());
        return builder;
    }

    /// <summary>Authentication, delegation and authorization in that order, and health and reflection for any network peer.</summary>
    public static WebApplication UseNetworkServer(this WebApplication app)
    {
        var delegation = app.Services.GetRequiredService<IOptions<NetworkServerOptions>>().Value.Delegation;
        app.UseAuthentication();
        app.Use((context, next) => NetworkAuthentication.ApplyDelegation(context, next, delegation));
        app.UseAuthorization();
        app.MapNetworkService<HealthServiceImpl>().RequireAuthorization(new AllowAnyNetworkPeerAttribute());
        app.MapGrpcReflectionService().RequireAuthorization(new AllowAnyNetworkPeerAttribute());
        return app;
    }

    /// <summary>
    /// Maps a service's RPCs (each with its own rule); grpc-dotnet's catch-all for an unknown
    /// method of the service answers UNIMPLEMENTED to any network peer, as gRPC clients expect.
    /// </summary>
    public static GrpcServiceEndpointConventionBuilder MapNetworkService<TService>(this IEndpointRouteBuilder app) where TService : class
    {
        var service = app.MapGrpcService<TService>();
        service.Add(endpoint =>
        {
            if (!endpoint.Metadata.OfType<GrpcMethodMetadata>().Any()) endpoint.Metadata.Add(new AllowAnyNetworkPeerAttribute());
        });
        return service;
    }

    /// <summary>
    /// Checks every RPC's rule, starts listening, marks every service SERVING (NOT_SERVING once
    /// stopping), and returns the address — the real port when listening on port 0.
    /// </summary>
    public static async Task<Uri> StartNetworkServerAsync(this WebApplication app, CancellationToken cancellationToken = default)
    {
        var rpcs = GrpcMethods(app).ToList();
        if (rpcs.FirstOrDefault(e => !HasRule(e)) is { } unruled)
            throw new InvalidOperationException($"{unruled.DisplayName} has no authorization rule: add [RequireRole(\"...\")] or [AllowAnyNetworkPeer] to the method or its class");
        var server = app.Services.GetRequiredService<IOptions<NetworkServerOptions>>().Value;
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            var why = e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException ? "the address is already in use" : e.Message;
            throw new CommandException($"cannot listen on {server.Listen}: {why}");
        }
        var health = app.Services.GetRequiredService<HealthServiceImpl>();
        var services = rpcs.Select(e => e.Metadata.GetMetadata<GrpcMethodMetadata>()!.Method.ServiceName).Distinct().ToList();
        foreach (var service in services.Prepend("")) health.SetStatus(service, HealthCheckResponse.Types.ServingStatus.Serving);
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            foreach (var service in services.Prepend("")) health.SetStatus(service, HealthCheckResponse.Types.ServingStatus.NotServing);
        });
        // An in-memory test server has no address of its own.
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "https://localhost/";
        var address = new Uri(bound.Replace("[::]", "localhost", StringComparison.Ordinal).Replace("0.0.0.0", "localhost", StringComparison.Ordinal));
        Listening(app.Logger, address.ToString().TrimEnd('/'), string.Join(", ", services));
        return address;
    }

    /// <summary>Whether an endpoint is one of the server's own RPCs (not a catch-all for an unknown method).</summary>
    public static bool IsGrpcMethod(Endpoint? endpoint) => endpoint?.Metadata.GetMetadata<GrpcMethodMetadata>() is not null;

    /// <summary>Every RPC the app maps, with its endpoint (what the rule check and the authorization tests walk).</summary>
    public static IEnumerable<Endpoint> GrpcMethods(IEndpointRouteBuilder app) =>
        app.DataSources.SelectMany(d => d.Endpoints).Where(IsGrpcMethod);

    static bool HasRule(Endpoint endpoint) =>
        endpoint.Metadata.OfType<IAuthorizationRequirementData>().Any() || endpoint.Metadata.OfType<IAuthorizeData>().Any(a => a.Policy is not null);

    static void Configure(KestrelServerOptions kestrel, NetworkServerOptions server)
    {
        kestrel.AddServerHeader = false;
        var limits = kestrel.Limits;
        // gRPC bodies are streams: no total size, no minimum rate (a quiet stream is legitimate).
        limits.MaxRequestBodySize = null;
        limits.MinRequestBodyDataRate = null;
        limits.MinResponseDataRate = null;
        limits.Http2.InitialStreamWindowSize = server.InitialStreamWindowSize;
        limits.Http2.InitialConnectionWindowSize = server.InitialConnectionWindowSize;
        limits.Http2.MaxStreamsPerConnection = server.MaxStreamsPerConnection;
        limits.Http2.KeepAlivePingDelay = TimeSpan.FromMinutes(1);
        limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(20);
        var logger = kestrel.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(NetworkServer));
        kestrel.Listen(server.Listen, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            listen.UseHttps(https =>
            {
                https.ServerCertificate = server.Tls.Certificate;
                https.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
                // Asked for in the handshake: HTTP/2 forbids renegotiating for it later.
                https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                https.CheckCertificateRevocation = false;
                https.ClientCertificateValidation = (certificate, _, _) =>
                {
                    if (server.Tls.ValidatePeer(certificate, PeerKind.Client, null, out var problem)) return true;
                    CertificateRefused(logger, problem);
                    return false;
                };
            });
        });
    }

    [LoggerMessage(1, LogLevel.Information, "gRPC server listening on {Address} (mutual TLS, HTTP/2) with {Services}")]
    static partial void Listening(ILogger logger, string address, string services);

    [LoggerMessage(2, LogLevel.Warning, "Refused a client certificate: {Problem}")]
    static partial void CertificateRefused(ILogger logger, string problem);
}
