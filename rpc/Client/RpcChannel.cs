using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Midia.Rpc.Protocol;
using Midia.Rpc.Tls;

namespace Midia.Rpc.Client;

public sealed class RpcChannelOptions
{
    /// <summary>Our certificate (presented to the server) and the network CA (the only trust for the server's).</summary>
    public required TlsMaterial Tls { get; init; }
    /// <summary>Largest response message (after decompression); larger is RESOURCE_EXHAUSTED. 4 MiB; null = unlimited.</summary>
    public int? MaxReceiveMessageSize { get; init; } = MessageFraming.DefaultMaxReceiveMessageSize;
    public int? MaxSendMessageSize { get; init; }
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>How long one HTTP/2 connection is used before a fresh one replaces it (DNS changes, load spreading).</summary>
    public TimeSpan PooledConnectionLifetime { get; init; } = Timeout.InfiniteTimeSpan;
    public int InitialStreamWindowSize { get; init; } = 1024 * 1024;
    /// <summary>The role the server's certificate must name (e.g. "node", "coordinator"); null: any role the CA vouches for.</summary>
    public string? ServerRole { get; init; }
    /// <summary>The site the server's certificate must name (a node of this site); null: any.</summary>
    public string? ServerSite { get; init; }
}

/// <summary>
/// A long-lived connection pool to one server (as GrpcChannel): HTTP/2 over mutual TLS, kept
/// warm with keep-alive pings and reused by every call; more connections open when one is full.
/// </summary>
public sealed class RpcChannel : IDisposable
{
    readonly SocketsHttpHandler handler;
    volatile string? lastCertificateProblem;

    RpcChannel(Uri address, RpcChannelOptions options)
    {
        Address = address;
        Options = options;
        handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            KeepAlivePingDelay = options.KeepAlivePingDelay,
            KeepAlivePingTimeout = options.KeepAlivePingTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            PooledConnectionLifetime = options.PooledConnectionLifetime,
            ConnectTimeout = options.ConnectTimeout,
            InitialHttp2StreamWindowSize = options.InitialStreamWindowSize,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            UseProxy = false,
            AllowAutoRedirect = false,
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [options.Tls.Certificate],
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = ValidateServer,
            },
        };
        Invoker = new HttpMessageInvoker(handler, disposeHandler: false);
    }

    public Uri Address { get; }
    public RpcChannelOptions Options { get; }
    internal HttpMessageInvoker Invoker { get; }
    /// <summary>Why the last server certificate was refused, for the UNAVAILABLE message.</summary>
    internal string? LastCertificateProblem => lastCertificateProblem;

    /// <summary>address: https://host:port (host:port alone means https).</summary>
    public static RpcChannel ForAddress(string address, RpcChannelOptions options)
    {
        var text = address.Contains("://", StringComparison.Ordinal) ? address : "https://" + address;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
            throw new ArgumentException($"address '{address}' must be https://HOST:PORT");
        return new RpcChannel(new Uri(uri.GetLeftPart(UriPartial.Authority)), options);
    }

    public static RpcChannel ForAddress(Uri address, RpcChannelOptions options) => ForAddress(address.ToString(), options);

    public CallInvoker CreateCallInvoker() => new(this);

    bool ValidateServer(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        var host = (sender as SslStream)?.TargetHostName is { Length: > 0 } target ? target : Address.IdnHost;
        var peer = certificate as X509Certificate2 ?? (certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
        if (Options.Tls.ValidatePeer(peer, PeerKind.Server, host, out var problem, Options.ServerRole, Options.ServerSite)) return true;
        lastCertificateProblem = problem;
        return false;
    }

    public void Dispose()
    {
        Invoker.Dispose();
        handler.Dispose();
    }
}
