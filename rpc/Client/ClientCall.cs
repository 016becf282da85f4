using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Midia.Rpc.Core;
using Midia.Rpc.Protocol;

namespace Midia.Rpc.Client;

/// <summary>
/// One call over SocketsHttpHandler, whatever its kind: sends headers and request messages,
/// reads response headers, messages and the status (from trailers, or from the headers of a
/// trailers-only response, or from the HTTP status). Deadline and cancellation abort the HTTP
/// request, which resets the stream.
/// </summary>
sealed class ClientCall<TRequest, TResponse> : IDisposable
    where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
{
    readonly RpcChannel channel;
    readonly Method<TRequest, TResponse> method;
    readonly CallOptions options;
    readonly CancellationTokenSource callCts = new();
    readonly CancellationTokenSource? deadlineCts;
    readonly CancellationTokenRegistration userCancellation;
    readonly TaskCompletionSource<Metadata> headers = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly TaskCompletionSource<Status> finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly string? requestEncoding;
    HttpResponseMessage? response;
    PipeReader? body;
    string? responseEncoding;
    Metadata? trailers;
    int disposed;
    volatile bool deadlineExceeded;

    public ClientCall(RpcChannel channel, Method<TRequest, TResponse> method, CallOptions options)
    {
        this.channel = channel;
        this.method = method;
        this.options = options;
        if (options.Headers?.GetValue(GrpcHeaders.CompressionRequest) is { } encoding && encoding != MessageCompression.Identity)
        {
            if (!MessageCompression.IsSupported(encoding)) throw new ArgumentException($"unsupported compression '{encoding}'");
            requestEncoding = encoding;
        }
        if (options.Deadline is { } deadline && deadline != DateTime.MaxValue)
        {
            var remaining = deadline.ToUniversalTime() - DateTime.UtcNow;
            Timeout = remaining;
            deadlineCts = new CancellationTokenSource();
            deadlineCts.Token.UnsafeRegister(static s => ((ClientCall<TRequest, TResponse>)s!).DeadlineReached(), this);
            if (remaining <= TimeSpan.Zero) deadlineExceeded = true;
            var longest = TimeSpan.FromMilliseconds(int.MaxValue - 1);
            deadlineCts.CancelAfter(remaining <= TimeSpan.Zero ? TimeSpan.Zero : remaining > longest ? longest : remaining);
        }
        if (options.CancellationToken.CanBeCanceled)
            userCancellation = options.CancellationToken.UnsafeRegister(static s => ((ClientCall<TRequest, TResponse>)s!).Abort(), this);
    }

    TimeSpan? Timeout { get; }
    public Task<Metadata> ResponseHeadersTask => headers.Task;
    public Task<Status> Finished => finished.Task;
    public string? RequestEncoding => requestEncoding;
    public CancellationToken CallToken => callCts.Token;
    public RpcChannel Channel => channel;
    public CallOptions Options => options;

    public Status GetStatus() => finished.Task.IsCompleted ? finished.Task.Result : throw new InvalidOperationException("Unable to get the status because the call is not complete.");
    public Metadata GetTrailers() => finished.Task.IsCompleted ? trailers ?? [] : throw new InvalidOperationException("Unable to get the trailers because the call is not complete.");

    void DeadlineReached()
    {
        deadlineExceeded = true;
        Abort();
    }

    void Abort()
    {
        try { callCts.Cancel(); } catch (ObjectDisposedException) { }
    }

    /// <summary>Starts sending: the request body is the given content (one message, or a stream the writer fills).</summary>
    public void Start(HttpContent? content)
    {
        if (content is not null) _ = RunAsync(content);
    }

    async Task RunAsync(HttpContent content)
    {
        try
        {
            if (deadlineExceeded) throw new OperationCanceledException();
            if (callCts.IsCancellationRequested) throw new OperationCanceledException(callCts.Token);
            using var request = BuildRequest(content);
            response = await channel.Invoker.SendAsync(request, callCts.Token).ConfigureAwait(false);
            if (StatusFromHeaders(response) is { } early)
            {
                // Trailers-only or not gRPC at all: the call is over without a body. Finish sets the
                // status before it releases the headers, so a reader woken by them sees the end.
                Finish(early);
                return;
            }
            responseEncoding = response.Headers.TryGetValues(GrpcHeaders.Encoding, out var enc) ? enc.FirstOrDefault() : null;
            if (responseEncoding is not null && responseEncoding != MessageCompression.Identity && !MessageCompression.IsSupported(responseEncoding))
            {
                Fail(new Status(StatusCode.Internal, $"Unsupported grpc-encoding '{responseEncoding}' in the response."));
                return;
            }
            body = PipeReader.Create(await response.Content.ReadAsStreamAsync(callCts.Token).ConfigureAwait(false));
            headers.TrySetResult(ReadMetadata(response.Headers));
        }
        catch (Exception e)
        {
            Fail(StatusFrom(e));
        }
    }

    /// <summary>The call failed before response headers arrived: ResponseHeadersAsync throws, as in grpc-dotnet.</summary>
    public void Fail(Status status)
    {
        // The status first: a reader woken by the failed headers must find the call finished.
        finished.TrySetResult(status);
        if (headers.TrySetException(new RpcException(status, trailers))) _ = headers.Task.Exception; // observed: nobody has to await it
    }

    HttpRequestMessage BuildRequest(HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(channel.Address, method.FullName))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        var h = request.Headers;
        h.TryAddWithoutValidation(GrpcHeaders.Te, GrpcHeaders.Trailers);
        h.TryAddWithoutValidation("user-agent", GrpcHeaders.UserAgent);
        h.TryAddWithoutValidation(GrpcHeaders.AcceptEncoding, MessageCompression.AcceptEncoding);
        if (requestEncoding is not null) h.TryAddWithoutValidation(GrpcHeaders.Encoding, requestEncoding);
        if (Timeout is { } timeout) h.TryAddWithoutValidation(GrpcHeaders.Timeout, GrpcTimeout.Format(timeout));
        if (options.Headers is { } metadata)
            foreach (var entry in metadata)
            {
                if (entry.Key == GrpcHeaders.CompressionRequest) continue;
                h.TryAddWithoutValidation(entry.Key, entry.IsBinary ? BinaryHeader.Encode(entry.ValueBytes) : entry.Value);
            }
        content.Headers.TryAddWithoutValidation("content-type", GrpcHeaders.ContentType);
        return request;
    }

    /// <summary>A status already decided by the response headers (HTTP error, not gRPC, trailers-only), else null.</summary>
    Status? StatusFromHeaders(HttpResponseMessage message)
    {
        if (message.StatusCode != HttpStatusCode.OK)
        {
            var code = HttpStatusMapping.ToStatusCode((int)message.StatusCode);
            return new Status(code, $"Bad gRPC response. HTTP status code: {(int)message.StatusCode}");
        }
        var contentType = message.Content.Headers.TryGetValues("content-type", out var types) ? types.FirstOrDefault() : null;
        if (!GrpcHeaders.IsGrpcContentType(contentType))
            return new Status(StatusCode.Internal, $"Bad gRPC response. Invalid content-type value: {contentType}");
        if (message.Headers.Contains(GrpcHeaders.Status))
        {
            trailers = ReadMetadata(message.Headers);
            return ReadStatus(message.Headers);
        }
        return null;
    }

    static Status ReadStatus(HttpHeaders source)
    {
        if (!source.TryGetValues(GrpcHeaders.Status, out var values))
            return new Status(StatusCode.Internal, "No grpc-status found on response.");
        var text = values.First();
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
            return new Status(StatusCode.Unknown, $"Unexpected grpc-status value '{text}'.");
        var detail = source.TryGetValues(GrpcHeaders.Message, out var messages) ? PercentEncoding.Decode(messages.First()) : "";
        return new Status((StatusCode)code, detail);
    }

    static Metadata ReadMetadata(HttpHeaders source)
    {
        var metadata = new Metadata();
        foreach (var (name, values) in source)
        {
            if (GrpcHeaders.IsProtocolHeader(name) || name.StartsWith("grpc-", StringComparison.OrdinalIgnoreCase)) continue;
            var key = name.ToLowerInvariant();
            foreach (var value in values)
            {
                try
                {
                    if (key.EndsWith(Metadata.BinaryHeaderSuffix, StringComparison.Ordinal))
                    {
                        if (BinaryHeader.TryDecode(value, out var bytes)) metadata.Add(key, bytes);
                    }
                    else metadata.Add(key, value);
                }
                catch (ArgumentException) { /* not valid metadata: left out */ }
            }
        }
        return metadata;
    }

    /// <summary>The next response message, or null when the server finished (the status is then known).</summary>
    public async Task<TResponse?> ReadMessageAsync(CancellationToken cancellationToken)
    {
        try
        {
            await headers.Task.ConfigureAwait(false);
        }
        catch (RpcException) { }
        if (finished.Task.IsCompleted) return FinishedOrThrow();
        using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, callCts.Token) : null;
        try
        {
            var message = await MessageFraming.ReadAsync(body!, method.ResponseParser, responseEncoding,
                channel.Options.MaxReceiveMessageSize ?? int.MaxValue, linked?.Token ?? callCts.Token).ConfigureAwait(false);
            if (message is not null) return message;
            trailers = ReadMetadata(response!.TrailingHeaders);
            Finish(ReadStatus(response.TrailingHeaders));
        }
        catch (Exception e) when (!finished.Task.IsCompleted)
        {
            Finish(StatusFrom(e));
            Abort();
        }
        return FinishedOrThrow();
    }

    TResponse? FinishedOrThrow()
    {
        var status = finished.Task.Result;
        return status.StatusCode == StatusCode.OK ? null : throw new RpcException(status, trailers);
    }

    /// <summary>Unary and client-streaming: exactly one message, then OK.</summary>
    public async Task<TResponse> ReadSingleResponseAsync()
    {
        var message = await ReadMessageAsync(CancellationToken.None).ConfigureAwait(false);
        if (message is null) throw new RpcException(new Status(StatusCode.Internal, "Failed to deserialize response message: the server sent none."), trailers);
        if (await ReadMessageAsync(CancellationToken.None).ConfigureAwait(false) is not null)
        {
            Finish(new Status(StatusCode.Internal, "The server sent more than one response message."));
            Abort();
            throw new RpcException(GetStatus(), trailers);
        }
        return message;
    }

    /// <summary>The one mapping of client-side failures to statuses.</summary>
    Status StatusFrom(Exception e)
    {
        if (deadlineExceeded) return new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded");
        if (options.CancellationToken.IsCancellationRequested) return new Status(StatusCode.Cancelled, "Call canceled by the client.");
        return e switch
        {
            RpcException rpc => rpc.Status,
            OperationCanceledException => new Status(StatusCode.Cancelled, "Call canceled."),
            HttpProtocolException { ErrorCode: 8 } => new Status(StatusCode.Cancelled, "The server reset the stream (CANCEL)."),
            HttpProtocolException p => new Status(StatusCode.Internal, $"HTTP/2 error {p.ErrorCode}: {p.Message}"),
            HttpRequestException h => new Status(StatusCode.Unavailable, ConnectionProblem(h)),
            IOException io => new Status(StatusCode.Unavailable, $"Connection lost: {io.Message}"),
            _ => new Status(StatusCode.Internal, $"Error in the gRPC client: {e.GetType().Name}: {e.Message}"),
        };
    }

    string ConnectionProblem(HttpRequestException e)
    {
        var inner = e.InnerException is { } i ? $" ({i.Message})" : "";
        var certificate = channel.LastCertificateProblem is { } p && e.HttpRequestError == HttpRequestError.SecureConnectionError ? $": {p}" : "";
        return $"Error connecting to {channel.Address.Authority}: {e.Message}{inner}{certificate}";
    }

    public void Finish(Status status)
    {
        if (finished.TrySetResult(status)) headers.TrySetResult(trailers ?? []);
    }

    /// <summary>Frames a message for the request body (compressed when the call compresses and the write allows it).</summary>
    public byte[] Frame(TRequest message, WriteOptions? writeOptions)
    {
        var buffer = new ArrayBufferWriter<byte>(message.CalculateSize() + MessageFraming.HeaderSize);
        var compress = requestEncoding is not null && (((writeOptions ?? options.WriteOptions)?.Flags ?? 0) & WriteFlags.NoCompress) == 0;
        MessageFraming.Write(buffer, message, compress ? requestEncoding : null, channel.Options.MaxSendMessageSize);
        return buffer.WrittenSpan.ToArray();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1) return;
        if (!finished.Task.IsCompleted)
        {
            Fail(new Status(StatusCode.Cancelled, "Call disposed."));
            Abort();
        }
        userCancellation.Dispose();
        deadlineCts?.Dispose();
        response?.Dispose();
    }
}
