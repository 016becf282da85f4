using System.Security.Cryptography.X509Certificates;
using Midia.Rpc.Authorization;
using Midia.Rpc.Core;
using Midia.Rpc.Tls;

namespace Midia.Rpc.Testing;

/// <summary>
/// A call context for calling a service method directly in a test, without a server (the role
/// of Grpc.Core.Testing). Authorization is not applied implicitly; <see cref="Authorize"/> applies
/// the method's declared rule the way the server would.
/// </summary>
public sealed class TestServerCallContext(PeerIdentity peer, Metadata requestHeaders, DateTime deadline, CancellationToken cancellationToken, string method)
    : ServerCallContext
{
    readonly Dictionary<object, object?> userState = [];

    public static TestServerCallContext Create(PeerIdentity? peer = null, Metadata? requestHeaders = null, DateTime? deadline = null,
        CancellationToken cancellationToken = default, string method = "/test.Service/Method") =>
        new(peer ?? new PeerIdentity("test", "test", null), requestHeaders ?? [], deadline ?? DateTime.MaxValue, cancellationToken, method);

    public override string Method => method;
    public override string Host => "localhost";
    public override string Peer => "ipv4:127.0.0.1:0";
    public override PeerIdentity AuthenticatedPeer => peer;
    public override X509Certificate2? ClientCertificate => null;
    public override DateTime Deadline => deadline;
    public override CancellationToken CancellationToken => cancellationToken;
    public override Metadata RequestHeaders => requestHeaders;
    public override Metadata ResponseTrailers { get; } = [];
    public override Status Status { get; set; } = Status.DefaultSuccess;
    public override WriteOptions? WriteOptions { get; set; }
    public override IDictionary<object, object?> UserState => userState;
    public string? RequestEncodingValue { get; set; }
    public override string? RequestEncoding => RequestEncodingValue;
    public bool? RequestMessageCompressedValue { get; set; }
    public override bool? RequestMessageCompressed => RequestMessageCompressedValue;

    /// <summary>What the handler sent with WriteResponseHeadersAsync (null if it did not).</summary>
    public Metadata? ResponseHeaders { get; private set; }

    public override Task WriteResponseHeadersAsync(Metadata responseHeaders)
    {
        if (ResponseHeaders is not null) throw new InvalidOperationException("Response headers can only be sent once per call.");
        ResponseHeaders = responseHeaders;
        return Task.CompletedTask;
    }

    /// <summary>Throws PERMISSION_DENIED exactly as the server would before calling this method of the implementation.</summary>
    public void Authorize(object implementation, string methodName)
    {
        var info = implementation.GetType().GetMethod(methodName) ?? throw new ArgumentException($"{implementation.GetType().Name} has no public method {methodName}");
        if (AuthorizationRule.For(info, methodName).Deny(peer) is { } denial) throw new RpcException(StatusCode.PermissionDenied, denial);
    }
}

/// <summary>Collects what a handler writes to its response stream.</summary>
public sealed class TestServerStreamWriter<T> : IServerStreamWriter<T>
{
    readonly List<T> written = [];
    public IReadOnlyList<T> Written => written;
    public WriteOptions? WriteOptions { get; set; }

    public Task WriteAsync(T message)
    {
        lock (written) written.Add(message);
        return Task.CompletedTask;
    }
}

/// <summary>Feeds a fixed list of request messages to a handler.</summary>
public sealed class TestAsyncStreamReader<T>(IEnumerable<T> messages) : IAsyncStreamReader<T>
{
    readonly IEnumerator<T> remaining = messages.GetEnumerator();
    public T Current => remaining.Current;

    public Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(remaining.MoveNext());
    }
}
