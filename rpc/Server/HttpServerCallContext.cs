using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Midia.Rpc.Core;
using Midia.Rpc.Protocol;
using Midia.Rpc.Tls;

namespace Midia.Rpc.Server;

/// <summary>
/// One call on Kestrel: owns the response (headers, messages, trailers), the deadline and the
/// handler's cancellation. Writes and the end of the call are serialized by one lock, because the
/// deadline timer may end the call while the handler is still writing.
/// </summary>
sealed class HttpServerCallContext : ServerCallContext, IAsyncDisposable
{
    const int ResetNoError = 0;

    readonly HttpContext http;
    readonly RpcServerOptions options;
    readonly ILogger logger;
    readonly SemaphoreSlim writeLock = new(1, 1);
    readonly CancellationTokenSource callCts;
    Timer? deadlineTimer;
    Task? deadlineTask;
    TimeSpan timeout;
    Metadata? requestHeaders, responseTrailers;
    PeerIdentity? peer;
    bool headersSent, messageWritten, completed;
    volatile bool deadlineExceeded;
    DateTime deadline = DateTime.MaxValue;
    string? requestEncoding;
    bool? requestMessageCompressed;
    Action<bool>? onRequestMessage;

    public HttpServerCallContext(HttpContext http, RpcServerOptions options, ILogger logger)
    {
        this.http = http;
        this.options = options;
        this.logger = logger;
        callCts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
    }

    public override string? RequestEncoding => requestEncoding;
    public override bool? RequestMessageCompressed => requestMessageCompressed;
    /// <summary>Given to the message reader so the handler can see each request message's compressed flag.</summary>
    public Action<bool> OnRequestMessage => onRequestMessage ??= flag => requestMessageCompressed = flag;
    public string? ResponseEncoding { get; private set; }
    public RpcServerOptions Options => options;
    public HttpContext HttpContext => http;

    public override string Method => http.Request.Path.Value ?? "";
    public override string Host => http.Request.Host.Value ?? "";
    public override string Peer
    {
        get
        {
            var c = http.Connection;
            return c.RemoteIpAddress?.AddressFamily switch
            {
                AddressFamily.InterNetwork => $"ipv4:{c.RemoteIpAddress}:{c.RemotePort}",
                AddressFamily.InterNetworkV6 => $"ipv6:[{c.RemoteIpAddress}]:{c.RemotePort}",
                _ => "unknown",
            };
        }
    }
    public override X509Certificate2? ClientCertificate => http.Connection.ClientCertificate;
    // The TLS handshake already required and validated the certificate, so it is always there.
    public override PeerIdentity AuthenticatedPeer => peer ??= CertificatePeer;
    /// <summary>The holder of the client certificate, before any delegation.</summary>
    public PeerIdentity CertificatePeer =>
        ClientCertificate is { } cert ? PeerIdentity.FromCertificate(cert) : new PeerIdentity("", "", null);

    /// <summary>Applies end-user metadata (a portal acting for a person); the refusal message when it may not.</summary>
    public string? ResolveDelegation()
    {
        var certificate = CertificatePeer;
        if (options.Delegation is null)
        {
            peer = certificate;
            return RequestHeaders.Get(Authorization.Delegation.Header) is null ? null : $"this server does not accept end-user metadata ({Authorization.Delegation.Header})";
        }
        peer = options.Delegation.Resolve(certificate, RequestHeaders, out var refusal) ?? certificate;
        return refusal;
    }
    public override DateTime Deadline => deadline;
    public override CancellationToken CancellationToken => callCts.Token;
    public override Metadata RequestHeaders => requestHeaders ??= ReadRequestHeaders();
    public override Metadata ResponseTrailers => responseTrailers ??= [];
    public override Status Status { get; set; } = Status.DefaultSuccess;
    public override WriteOptions? WriteOptions { get; set; }
    public override IDictionary<object, object?> UserState => http.Items;


    /// <summary>Reads the protocol headers; a status means "refuse the call with it" (nothing was sent yet).</summary>
    public Status? Initialize()
    {
        var headers = http.Request.Headers;
        var encoding = headers[GrpcHeaders.Encoding].ToString();
        if (encoding.Length > 0 && encoding != MessageCompression.Identity)
        {
            if (!MessageCompression.IsSupported(encoding))
            {
                http.Response.Headers[GrpcHeaders.AcceptEncoding] = MessageCompression.AcceptEncoding;
                return new Status(StatusCode.Unimplemented, $"Unsupported grpc-encoding value '{encoding}'. Supported encodings: {MessageCompression.AcceptEncoding}");
            }
            requestEncoding = encoding;
        }
        foreach (var header in headers)
            if (header.Key.EndsWith(Metadata.BinaryHeaderSuffix, StringComparison.OrdinalIgnoreCase))
                foreach (var value in header.Value)
                    if (value is null || !BinaryHeader.TryDecode(value, out _))
                        return new Status(StatusCode.Internal, $"Header '{header.Key}' is not valid base64.");
        var timeoutText = headers[GrpcHeaders.Timeout].ToString();
        if (timeoutText.Length > 0)
        {
            if (!GrpcTimeout.TryParse(timeoutText, out timeout))
                return new Status(StatusCode.Internal, $"Invalid grpc-timeout value '{timeoutText}'.");
            deadline = DateTime.UtcNow + timeout;
        }

        var acceptEncoding = headers[GrpcHeaders.AcceptEncoding].ToString();
        if (options.ResponseCompressionAlgorithm is { } algorithm && algorithm != MessageCompression.Identity
            && MessageCompression.Accepts(acceptEncoding, algorithm))
            ResponseEncoding = algorithm;

        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcHeaders.ContentType;
        response.Headers[GrpcHeaders.AcceptEncoding] = MessageCompression.AcceptEncoding;
        if (ResponseEncoding is not null) response.Headers[GrpcHeaders.Encoding] = ResponseEncoding;

        if (timeoutText.Length > 0)
        {
            if (timeout <= TimeSpan.Zero) return new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded");
            deadlineTimer = new Timer(static state => ((HttpServerCallContext)state!).OnDeadline(), this, timeout, Timeout.InfiniteTimeSpan);
        }
        return null;
    }

    Metadata ReadRequestHeaders()
    {
        var metadata = new Metadata();
        foreach (var header in http.Request.Headers)
        {
            if (GrpcHeaders.IsProtocolHeader(header.Key)) continue;
            var key = header.Key.ToLowerInvariant();
            foreach (var value in header.Value)
            {
                if (value is null) continue;
                try
                {
                    if (key.EndsWith(Metadata.BinaryHeaderSuffix, StringComparison.Ordinal))
                    {
                        if (BinaryHeader.TryDecode(value, out var bytes)) metadata.Add(key, bytes);
                    }
                    else metadata.Add(new Metadata.Entry(key, value));
                }
                catch (ArgumentException)
                {
                    // A header that is not valid metadata (e.g. grpc-encoding, non-ASCII) is left out, not fatal.
                }
            }
        }
        return metadata;
    }

    public override async Task WriteResponseHeadersAsync(Metadata responseHeaders)
    {
        await writeLock.WaitAsync(CancellationToken).ConfigureAwait(false);
        try
        {
            if (headersSent || messageWritten || completed) throw new InvalidOperationException("Response headers can only be sent once per call.");
            ApplyResponseHeaders(responseHeaders);
            headersSent = true;
            await http.Response.BodyWriter.FlushAsync(CancellationToken).ConfigureAwait(false);
        }
        finally { writeLock.Release(); }
    }

    void ApplyResponseHeaders(Metadata responseHeaders)
    {
        foreach (var entry in responseHeaders)
        {
            if (entry.Key == GrpcHeaders.CompressionRequest)
            {
                // grpc-dotnet convention: a handler picks its response compression with this pseudo-header.
                if (!MessageCompression.IsSupported(entry.Value)) throw new InvalidOperationException($"unsupported response compression '{entry.Value}'");
                // Never compress with an encoding the client did not list in grpc-accept-encoding (grpc.io compression guide).
                var accepted = entry.Value != MessageCompression.Identity
                    && MessageCompression.Accepts(http.Request.Headers[GrpcHeaders.AcceptEncoding].ToString(), entry.Value);
                ResponseEncoding = accepted ? entry.Value : null;
                if (accepted) http.Response.Headers[GrpcHeaders.Encoding] = entry.Value;
                else http.Response.Headers.Remove(GrpcHeaders.Encoding);
            }
            else http.Response.Headers.Append(entry.Key, entry.IsBinary ? BinaryHeader.Encode(entry.ValueBytes) : entry.Value);
        }
    }

    public async Task WriteMessageAsync(IMessage message, bool flush)
    {
        await writeLock.WaitAsync(CancellationToken).ConfigureAwait(false);
        try
        {
            if (completed) throw new InvalidOperationException("Can't write the message because the call is complete.");
            var compress = ResponseEncoding is not null && ((WriteOptions?.Flags ?? 0) & WriteFlags.NoCompress) == 0;
            MessageFraming.Write(http.Response.BodyWriter, message, compress ? ResponseEncoding : null, options.MaxSendMessageSize);
            messageWritten = true;
            if (flush) await http.Response.BodyWriter.FlushAsync(CancellationToken).ConfigureAwait(false);
        }
        finally { writeLock.Release(); }
    }

    /// <summary>The handler returned: send Status and trailers (unless the deadline or the client ended the call first).</summary>
    public async Task EndCallAsync()
    {
        await writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (completed) return;
            completed = true;
            WriteStatus(Status);
        }
        finally { writeLock.Release(); }
        ServerLog.CallEnded(logger, Method, Status.StatusCode);
    }

    /// <summary>The handler threw: turn it into a status (the one mapping) and end the call with it.</summary>
    public async Task EndCallAsync(Exception exception)
    {
        var aborted = http.RequestAborted.IsCancellationRequested;
        var status = deadlineExceeded
            ? new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded")
            : ErrorStatus.From(exception, callCts.IsCancellationRequested);
        if (exception is not RpcException && !(exception is OperationCanceledException && callCts.IsCancellationRequested))
        {
            // The message may hold data from the request: only the type at Error, the rest at Debug.
            ServerLog.HandlerFailed(logger, Method, exception.GetType().Name);
            ServerLog.HandlerFailedDetail(logger, Method, exception);
        }
        if (exception is RpcException rpc)
            foreach (var entry in rpc.Trailers) ResponseTrailers.Add(entry);
        Status = status;
        if (aborted)
        {
            // The client reset the stream: there is nobody to send a status to.
            completed = true;
            return;
        }
        // After a deadline, Kestrel itself resets the stream (NO_ERROR) once the handler returns with the body unread.
        await EndCallAsync().ConfigureAwait(false);
    }

    /// <summary>Refuses the call before any handler runs (always trailers-only).</summary>
    public async Task RefuseAsync(Status status)
    {
        Status = status;
        await EndCallAsync().ConfigureAwait(false);
    }

    void WriteStatus(Status status)
    {
        var response = http.Response;
        if (!headersSent && !messageWritten && !response.HasStarted)
        {
            // Trailers-only: the status travels in the one HEADERS frame, which ends the stream.
            response.Headers[GrpcHeaders.Status] = ((int)status.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!string.IsNullOrEmpty(status.Detail)) response.Headers[GrpcHeaders.Message] = PercentEncoding.Encode(status.Detail);
            if (responseTrailers is not null)
                foreach (var entry in responseTrailers)
                    response.Headers.Append(entry.Key, entry.IsBinary ? BinaryHeader.Encode(entry.ValueBytes) : entry.Value);
            return;
        }
        response.AppendTrailer(GrpcHeaders.Status, ((int)status.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(status.Detail)) response.AppendTrailer(GrpcHeaders.Message, PercentEncoding.Encode(status.Detail));
        if (responseTrailers is not null)
            foreach (var entry in responseTrailers)
                response.AppendTrailer(entry.Key, entry.IsBinary ? BinaryHeader.Encode(entry.ValueBytes) : entry.Value);
    }

    void OnDeadline() => deadlineTask = DeadlineExceededAsync();

    async Task DeadlineExceededAsync()
    {
        try
        {
            deadlineExceeded = true;
            ServerLog.DeadlineExceeded(logger, Method, timeout);
            // Cancel first: a handler blocked in a write holds the lock and must let go of it.
            await callCts.CancelAsync().ConfigureAwait(false);
            await writeLock.WaitAsync().ConfigureAwait(false);
            try
            {
                if (completed) return;
                completed = true;
                Status = new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded");
                WriteStatus(Status);
                await http.Response.CompleteAsync().ConfigureAwait(false);
            }
            finally { writeLock.Release(); }
            Reset();
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or IOException)
        {
            // The request ended meanwhile; nothing left to tell the client.
        }
    }

    /// <summary>After the status went out, stop the client sending more (RST_STREAM NO_ERROR, as grpc-dotnet does).</summary>
    void Reset()
    {
        try { http.Features.Get<IHttpResetFeature>()?.Reset(ResetNoError); }
        catch (InvalidOperationException) { }
    }

    /// <summary>Called before the request ends: a deadline in flight must finish with the HttpContext first.</summary>
    public async ValueTask DisposeAsync()
    {
        if (deadlineTimer is not null)
        {
            await deadlineTimer.DisposeAsync().ConfigureAwait(false);
            if (deadlineTask is not null) await deadlineTask.ConfigureAwait(false);
        }
        callCts.Dispose();
    }
}
