using Google.Protobuf;
using Grpc.Core;
using Grpc.Testing;
using Midia.Trust;

namespace Midia.Interop.Server;

/// <summary>
/// grpc.testing.TestService on grpc-dotnet, derived from the generated base, with the server
/// features of grpc/grpc doc/interop-test-descriptions.md: echo metadata, echo status, compressed
/// responses on request, expect_compressed checks, interval_us pauses. UnimplementedCall is not
/// overridden, so the generated base answers it UNIMPLEMENTED. Any peer with a network
/// certificate may call it.
/// </summary>
[AllowAnyNetworkPeer]
public sealed class InteropTestService : TestService.TestServiceBase
{
    public const string EchoInitialKey = "x-grpc-test-echo-initial";
    public const string EchoTrailingKey = "x-grpc-test-echo-trailing-bin";
    // grpc-dotnet's per-call switch: in the response headers it sets the call's response encoding.
    const string CompressionRequest = "grpc-internal-encoding-request";

    public override async Task<Empty> EmptyCall(Empty request, ServerCallContext context)
    {
        await SendHeaders(context, compress: false);
        EchoTrailing(context);
        return new Empty();
    }

    public override async Task<SimpleResponse> UnaryCall(SimpleRequest request, ServerCallContext context)
    {
        var compress = request.ResponseCompressed?.Value ?? false;
        await SendHeaders(context, compress);
        EchoTrailing(context);
        EchoStatus(request.ResponseStatus);
        CheckCompression(request.ExpectCompressed, context);
        return new SimpleResponse { Payload = Zeros(request.ResponseSize) };
    }

    public override Task<SimpleResponse> CacheableUnaryCall(SimpleRequest request, ServerCallContext context) =>
        Task.FromResult(new SimpleResponse { Payload = new Payload { Body = ByteString.CopyFromUtf8(DateTime.UtcNow.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture)) } });

    public override async Task StreamingOutputCall(StreamingOutputCallRequest request, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        await SendHeaders(context, compress: request.ResponseParameters.Any(p => p.Compressed?.Value ?? false));
        EchoTrailing(context);
        EchoStatus(request.ResponseStatus);
        await Answer(request, responseStream, context);
    }

    public override async Task<StreamingInputCallResponse> StreamingInputCall(IAsyncStreamReader<StreamingInputCallRequest> requestStream, ServerCallContext context)
    {
        await SendHeaders(context, compress: false);
        EchoTrailing(context);
        var total = 0;
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            CheckCompression(requestStream.Current.ExpectCompressed, context);
            total += requestStream.Current.Payload?.Body.Length ?? 0;
        }
        return new StreamingInputCallResponse { AggregatedPayloadSize = total };
    }

    public override async Task FullDuplexCall(IAsyncStreamReader<StreamingOutputCallRequest> requestStream, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        // Which responses are compressed is only known per request, so the call offers gzip and
        // each message opts out unless its ResponseParameters ask for compression.
        await SendHeaders(context, compress: true);
        EchoTrailing(context);
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            EchoStatus(requestStream.Current.ResponseStatus);
            await Answer(requestStream.Current, responseStream, context);
        }
    }

    public override async Task HalfDuplexCall(IAsyncStreamReader<StreamingOutputCallRequest> requestStream, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        await SendHeaders(context, compress: true);
        EchoTrailing(context);
        var requests = new List<StreamingOutputCallRequest>();
        while (await requestStream.MoveNext(context.CancellationToken)) requests.Add(requestStream.Current);
        foreach (var request in requests)
        {
            EchoStatus(request.ResponseStatus);
            await Answer(request, responseStream, context);
        }
    }

    static async Task Answer(StreamingOutputCallRequest request, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        foreach (var parameters in request.ResponseParameters)
        {
            if (parameters.IntervalUs > 0) await Task.Delay(TimeSpan.FromMicroseconds(parameters.IntervalUs), context.CancellationToken);
            // Per message: only a message whose parameters ask for it goes compressed.
            responseStream.WriteOptions = parameters.Compressed?.Value ?? false ? new WriteOptions() : new WriteOptions(WriteFlags.NoCompress);
            await responseStream.WriteAsync(new StreamingOutputCallResponse { Payload = Zeros(parameters.Size) });
        }
    }

    /// <summary>
    /// Response headers: the echoed x-grpc-test-echo-initial, and gzip as the call's response
    /// encoding when responses may be compressed and the client accepts gzip. grpc-dotnet checks
    /// grpc-accept-encoding only for its service-wide ResponseCompressionAlgorithm, not for this
    /// per-call switch, so the check is here (a client that accepts only identity gets none).
    /// </summary>
    static Task SendHeaders(ServerCallContext context, bool compress)
    {
        var headers = new Metadata();
        if (context.RequestHeaders.Get(EchoInitialKey) is { } initial) headers.Add(initial);
        if (compress && AcceptsGzip(context)) headers.Add(CompressionRequest, "gzip");
        return headers.Count > 0 ? context.WriteResponseHeadersAsync(headers) : Task.CompletedTask;
    }

    static bool AcceptsGzip(ServerCallContext context) =>
        context.GetHttpContext().Request.Headers["grpc-accept-encoding"].ToString()
            .Split(',', StringSplitOptions.TrimEntries).Contains("gzip", StringComparer.Ordinal);

    static void EchoTrailing(ServerCallContext context)
    {
        if (context.RequestHeaders.Get(EchoTrailingKey) is { } trailing) context.ResponseTrailers.Add(trailing);
    }

    static void EchoStatus(EchoStatus? status)
    {
        if (status is { Code: not 0 }) throw new RpcException(new Status((StatusCode)status.Code, status.Message));
    }

    /// <summary>
    /// expect_compressed = true: the request must have come compressed, else INVALID_ARGUMENT.
    /// grpc-dotnet exposes no per-message compressed flag, so this reads the call's grpc-encoding
    /// header from the HttpContext (ServerCallContext.RequestHeaders leaves grpc-* headers out) —
    /// what grpc-dotnet's own interop server does. false is not checked, as the interop
    /// description asks: grpcio cannot turn compression off per message.
    /// </summary>
    static void CheckCompression(BoolValue? expectCompressed, ServerCallContext context)
    {
        if (expectCompressed is not { Value: true }) return;
        var encoding = context.GetHttpContext().Request.Headers["grpc-encoding"].ToString();
        if (encoding is "gzip" or "deflate") return;
        throw new RpcException(new Status(StatusCode.InvalidArgument,
            $"expected a compressed request message; the call's grpc-encoding is {(encoding.Length == 0 ? "absent" : encoding)}"));
    }

    static Payload Zeros(int size) => new() { Type = PayloadType.Compressable, Body = ByteString.CopyFrom(new byte[size]) };
}
