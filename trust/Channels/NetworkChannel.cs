using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace Midia.Trust;

/// <summary>Whom a client expects at the other end: the role (and site) the server's certificate must name.</summary>
public sealed record ServerPin(string Role, string? Site = null);

/// <summary>
/// The one way a party of the network dials another: a <see cref="GrpcChannel"/> over a
/// <see cref="SocketsHttpHandler"/> that presents our certificate, trusts only the network CA,
/// checks the host name and — when we know whom we dial — the role and site in the server's
/// certificate (<see cref="ServerPin"/>), so a KVNR or a query never reaches the wrong party.
/// Connections are long-lived (HTTP/2, kept warm with pings, more opened when one is full).
/// Generated clients take <see cref="Invoker"/>: its UNAVAILABLE says why a server's certificate was refused.
/// </summary>
public sealed class NetworkChannel : IDisposable
{
    volatile string? lastCertificateProblem;

    NetworkChannel(Uri address, TlsMaterial tls, ServerPin? pin, TimeSpan connectTimeout, int? maxReceiveMessageSize)
    {
        Address = address;
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            ConnectTimeout = connectTimeout,
            InitialHttp2StreamWindowSize = 1024 * 1024,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            UseProxy = false,
            AllowAutoRedirect = false,
            // Our own (plain TCP) connect: grpc-dotnet then leaves connecting to this handler, call by
            // call, instead of its subchannel, which after one refused connection fails every call at
            // once for a growing backoff (1 s up to 2 min) — a restarted node would stay "refused" that
            // long, beyond the fan-out's, the consent pushes' and the sync's own retries.
            ConnectCallback = ConnectAsync,
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [tls.Certificate],
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (sender, certificate, _, _) =>
                {
                    var host = (sender as SslStream)?.TargetHostName is { Length: > 0 } target ? target : Address.IdnHost;
                    var peer = certificate as X509Certificate2 ?? (certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
                    if (tls.ValidatePeer(peer, PeerKind.Server, host, out var problem, pin?.Role, pin?.Site)) return true;
                    lastCertificateProblem = problem;
                    return false;
                },
            },
        };
        Channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = maxReceiveMessageSize,
        });
        Invoker = Channel.Intercept(new CertificateProblems(this));
    }

    public Uri Address { get; }
    public GrpcChannel Channel { get; }
    /// <summary>What generated clients are made with: <c>new Research.ResearchClient(channel.Invoker)</c>.</summary>
    public CallInvoker Invoker { get; }
    /// <summary>Why the last server certificate was refused; null if none was.</summary>
    public string? LastCertificateProblem => lastCertificateProblem;

    /// <summary>address: https://host:port (host:port alone means https). Throws ArgumentException on anything else.</summary>
    public static NetworkChannel Open(string address, TlsMaterial tls, ServerPin? pin = null, TimeSpan? connectTimeout = null, int? maxReceiveMessageSize = 4 * 1024 * 1024)
    {
        var text = address.Contains("://", StringComparison.Ordinal) ? address : "https://" + address;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
            throw new ArgumentException($"address '{address}' must be https://HOST:PORT");
        return new NetworkChannel(new Uri(uri.GetLeftPart(UriPartial.Authority)), tls, pin, connectTimeout ?? TimeSpan.FromSeconds(10), maxReceiveMessageSize);
    }

    public static NetworkChannel Open(Uri address, TlsMaterial tls, ServerPin? pin = null, TimeSpan? connectTimeout = null) =>
        Open(address.ToString(), tls, pin, connectTimeout);

    public void Dispose() => Channel.Dispose();

    static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>grpc-dotnet says only that the TLS handshake failed; this names the certificate's problem.</summary>
    sealed class CertificateProblems(NetworkChannel channel) : Interceptor
    {
        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
        {
            var call = continuation(request, context);
            return new AsyncUnaryCall<TResponse>(Named(call.ResponseAsync), call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
        }

        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation)
        {
            var call = continuation(request, context);
            return new AsyncServerStreamingCall<TResponse>(new NamedReader<TResponse>(call.ResponseStream, this), call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
        }

        async Task<TResponse> Named<TResponse>(Task<TResponse> response)
        {
            try { return await response.ConfigureAwait(false); }
            catch (RpcException e) when (Rename(e) is { } named) { throw named; }
        }

        // grpc-dotnet says INTERNAL for a handshake our callback refused (it maps only socket and I/O
        // failures to UNAVAILABLE); for the caller it is a server it cannot use, so UNAVAILABLE. The same
        // for a connection the server closed in its handshake: under TLS 1.3 the server judges our
        // certificate after our side has finished, so its refusal arrives as a broken HTTP/2 start.
        internal RpcException? Rename(RpcException e)
        {
            if (e.StatusCode is not (StatusCode.Unavailable or StatusCode.Internal)) return null;
            if (channel.LastCertificateProblem is { } problem && Causes(e).Any(c => c is AuthenticationException))
                return new RpcException(new Status(StatusCode.Unavailable, $"the server's certificate was refused: {problem}", e.Status.DebugException), e.Trailers);
            // Only a call that never got an answer ("Error starting gRPC call"): the connection itself failed.
            if (e.StatusCode == StatusCode.Internal && e.Status.Detail.StartsWith("Error starting gRPC call", StringComparison.Ordinal)
                && Causes(e).OfType<HttpRequestException>().FirstOrDefault() is { } broken)
                return new RpcException(new Status(StatusCode.Unavailable,
                    $"the server closed the connection before a call could start ({broken.Message}); a server of the network does that when it does not accept " +
                    "this certificate (issued by another CA, expired, or not for client authentication)",
                    e.Status.DebugException), e.Trailers);
            return null;
        }

        static IEnumerable<Exception> Causes(RpcException e)
        {
            for (var cause = e.Status.DebugException; cause is not null; cause = cause.InnerException) yield return cause;
        }

        sealed class NamedReader<T>(IAsyncStreamReader<T> inner, CertificateProblems names) : IAsyncStreamReader<T>
        {
            public T Current => inner.Current;

            public async Task<bool> MoveNext(CancellationToken cancellationToken)
            {
                try { return await inner.MoveNext(cancellationToken).ConfigureAwait(false); }
                catch (RpcException e) when (names.Rename(e) is { } named) { throw named; }
            }
        }
    }
}
