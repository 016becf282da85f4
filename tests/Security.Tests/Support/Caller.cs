using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Midia.Trust;

namespace Midia.Security.Tests.Support;

/// <summary>How one call ended, as the caller saw it.</summary>
public sealed record CallOutcome(StatusCode? Status, string Detail)
{
    /// <summary>No gRPC status from the server at all: the connection was refused or dropped in the TLS handshake.</summary>
    public bool TlsRefused => Status is null;
    public override string ToString() => Status is null ? $"no call ({Detail})" : $"{Status} ({Detail})";
}

/// <summary>
/// A gRPC client (grpc-dotnet's <see cref="GrpcChannel"/>) holding one identity — a client
/// certificate or none at all — so the very same code calls every RPC as every identity, including
/// ones our own client would not even try (no certificate, an expired one, one from another CA).
/// RPCs are called by name with raw protobuf bytes; requests are single messages, and an answer is
/// read up to its first response message, which already proves the server let the call past authorization.
/// </summary>
public sealed class Caller : IDisposable
{
    static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);
    readonly GrpcChannel channel;
    readonly Metadata endUser = [];

    /// <param name="endUser">The end-user metadata a portal sends for a signed-in person (role, name, site); null: none.</param>
    public Caller(string name, Uri server, X509Certificate2? certificate, (string Role, string Name, string? Site)? endUser = null)
    {
        Name = name;
        // The same entry the portal sends (PortalNetwork.For).
        if (endUser is { } user) this.endUser.Add(Delegation.EndUserEntry(user.Role, user.Name, user.Site));
        channel = GrpcChannel.ForAddress(server, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                UseProxy = false,
                ConnectTimeout = TimeSpan.FromSeconds(30),
                SslOptions = new SslClientAuthenticationOptions
                {
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    ClientCertificates = certificate is null ? null : [certificate],
                    // Present the certificate even where the server's CA list would not select it (a foreign CA's).
                    LocalCertificateSelectionCallback = certificate is null ? null : (_, _, _, _, _) => certificate,
                    // The servers are this test's own processes; their side of the handshake is not under test here.
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
                },
            },
            DisposeHttpClient = true,
        });
    }

    public string Name { get; }

    /// <summary>Calls /SERVICE/METHOD with one request message (its protobuf bytes); the outcome and the first response message, if any.</summary>
    public async Task<(CallOutcome Outcome, byte[]? FirstMessage)> CallAsync(string service, string method, MethodType type, byte[] request, CancellationToken cancellationToken)
    {
        var rpc = new Method<byte[], byte[]>(type, service, method, Bytes, Bytes);
        var options = new CallOptions(headers: endUser, deadline: DateTime.UtcNow.AddSeconds(60), cancellationToken: cancellationToken);
        var invoker = channel.CreateCallInvoker();
        try
        {
            switch (type)
            {
                case MethodType.Unary:
                {
                    using var call = invoker.AsyncUnaryCall(rpc, null, options, request);
                    await Responding(call.ResponseHeadersAsync);
                    return Answered(await call.ResponseAsync);
                }
                case MethodType.ServerStreaming:
                {
                    // A stream may go on (health's Watch does); the first message is enough, the rest is cancelled with the call.
                    using var call = invoker.AsyncServerStreamingCall(rpc, null, options, request);
                    await Responding(call.ResponseHeadersAsync);
                    return await call.ResponseStream.MoveNext(cancellationToken) ? Answered(call.ResponseStream.Current) : Ended(call.GetStatus());
                }
                case MethodType.DuplexStreaming:
                {
                    using var call = invoker.AsyncDuplexStreamingCall(rpc, null, options);
                    // The server may answer only once it has read the request, so the request goes first;
                    // a call that already ended (or whose connection failed) refuses the write, and how it ended is read below.
                    try
                    {
                        await call.RequestStream.WriteAsync(request, cancellationToken);
                        await call.RequestStream.CompleteAsync();
                    }
                    catch (Exception e) when (e is RpcException or InvalidOperationException or IOException or HttpRequestException) { }
                    await Responding(call.ResponseHeadersAsync);
                    return await call.ResponseStream.MoveNext(cancellationToken) ? Answered(call.ResponseStream.Current) : Ended(call.GetStatus());
                }
                default:
                    throw new NotSupportedException($"{service}/{method} is {type}: no RPC of the network is; teach the caller to send a stream");
            }
        }
        catch (NoServerStatus e)
        {
            return (new CallOutcome(null, e.Message), null);
        }
        catch (RpcException e)
        {
            return (new CallOutcome(e.StatusCode, e.Status.Detail), null);
        }
    }

    /// <summary>
    /// Waits for the server's response headers (for a refused or failed call: its trailers-only
    /// status). If none ever came because the connection failed, the server never answered over HTTP
    /// at all: grpc-dotnet then makes up a status of its own — UNAVAILABLE or INTERNAL, depending on
    /// how the connection died ("the server did not complete the HTTP/2 handshake" is INTERNAL) — with
    /// the transport's exception as its debug exception, which a status the server sent never has.
    /// </summary>
    static async Task Responding(Task<Metadata> headers)
    {
        try { await headers; }
        catch (RpcException e) when (Transport(e.Status.DebugException) is { } cause)
        {
            throw new NoServerStatus(cause);
        }
    }

    static string? Transport(Exception? cause)
    {
        if (cause is not (HttpRequestException or IOException or AuthenticationException)) return null;
        while (cause.InnerException is not null) cause = cause.InnerException;
        return cause.Message;
    }

    static (CallOutcome, byte[]?) Answered(byte[] message) => (new CallOutcome(StatusCode.OK, "answered"), message);

    static (CallOutcome, byte[]?) Ended(Status status) => (new CallOutcome(status.StatusCode, status.Detail), null);

    sealed class NoServerStatus(string message) : Exception(message);

    public void Dispose() => channel.Dispose();
}
