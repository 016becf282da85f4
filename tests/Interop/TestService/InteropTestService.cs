using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Testing;
using Midia.Rpc.Authorization;
using Midia.Rpc.Core;

namespace Midia.Interop.TestService;

/// <summary>
/// grpc.testing.TestService on our rpc layer, with the server features of grpc/grpc
/// doc/interop-test-descriptions.md: echo metadata, echo status, compressed responses on request,
/// expect_compressed checks, interval_us pauses. UnimplementedCall is left out on purpose, so the
/// binding answers it UNIMPLEMENTED. Any peer with a network certificate may call it.
/// </summary>
[AllowAnyAuthenticatedPeer]
public sealed class InteropTestService
{
    public const string EchoInitialKey = "x-grpc-test-echo-initial";
    public const string EchoTrailingKey = "x-grpc-test-echo-trailing-bin";
    const string CompressionRequest = "grpc-internal-encoding-request";

    public static ServiceDescriptor Descriptor { get; } = TestReflection.Descriptor.Services.Single(s => s.Name == "TestService");

    public async Task<Empty> EmptyCall(Empty request, ServerCallContext context)
    {
        await SendHeaders(context, compress: false);
        EchoTrailing(context);
        return new Empty();
    }

    public async Task<SimpleResponse> UnaryCall(SimpleRequest request, ServerCallContext context)
    {
        var compress = request.ResponseCompressed?.Value ?? false;
        await SendHeaders(context, compress);
        EchoTrailing(context);
        EchoStatus(request.ResponseStatus);
        CheckCompression(request.ExpectCompressed, context);
        if (!compress) context.WriteOptions = new WriteOptions(WriteFlags.NoCompress);
        return new SimpleResponse { Payload = Zeros(request.ResponseSize) };
    }

    public Task<SimpleResponse> CacheableUnaryCall(SimpleRequest request, ServerCallContext context) =>
        Task.FromResult(new SimpleResponse { Payload = new Payload { Body = ByteString.CopyFromUtf8(DateTime.UtcNow.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture)) } });

    public async Task StreamingOutputCall(StreamingOutputCallRequest request, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        await SendHeaders(context, compress: request.ResponseParameters.Any(p => p.Compressed?.Value ?? false));
        EchoTrailing(context);
        EchoStatus(request.ResponseStatus);
        await Answer(request, responseStream, context);
    }

    public async Task<StreamingInputCallResponse> StreamingInputCall(IAsyncStreamReader<StreamingInputCallRequest> requestStream, ServerCallContext context)
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

    public async Task FullDuplexCall(IAsyncStreamReader<StreamingOutputCallRequest> requestStream, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
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

    public async Task HalfDuplexCall(IAsyncStreamReader<StreamingOutputCallRequest> requestStream, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
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
            responseStream.WriteOptions = parameters.Compressed?.Value ?? false ? WriteOptions.Default : new WriteOptions(WriteFlags.NoCompress);
            await responseStream.WriteAsync(new StreamingOutputCallResponse { Payload = Zeros(parameters.Size) });
        }
    }

    /// <summary>Response headers: the echoed x-grpc-test-echo-initial, and gzip when responses may be compressed.</summary>
    static Task SendHeaders(ServerCallContext context, bool compress)
    {
        var headers = new Metadata();
        if (context.RequestHeaders.Get(EchoInitialKey) is { } initial) headers.Add(initial);
        if (compress) headers.Add(CompressionRequest, "gzip");
        return headers.Count > 0 ? context.WriteResponseHeadersAsync(headers) : Task.CompletedTask;
    }

    static void EchoTrailing(ServerCallContext context)
    {
        if (context.RequestHeaders.Get(EchoTrailingKey) is { } trailing) context.ResponseTrailers.Add(trailing);
    }

    static void EchoStatus(EchoStatus? status)
    {
        if (status is { Code: not 0 }) throw new RpcException((StatusCode)status.Code, status.Message);
    }

    /// <summary>expect_compressed = true: the request must have come compressed, else INVALID_ARGUMENT.</summary>
    static void CheckCompression(BoolValue? expectCompressed, ServerCallContext context)
    {
        if (expectCompressed is not { Value: true }) return;
        // Gap in rpc/ (reported): ServerCallContext does not tell a handler how the request was
        // encoded (grpc-encoding is a protocol header, left out of RequestHeaders), so this check
        // cannot be made; the call fails rather than pretending to have checked.
        throw new RpcException(StatusCode.FailedPrecondition,
            "expect_compressed cannot be checked: the rpc layer does not expose the request's grpc-encoding to handlers");
    }

    static Payload Zeros(int size) => new() { Type = PayloadType.Compressable, Body = ByteString.CopyFrom(new byte[size]) };
}
