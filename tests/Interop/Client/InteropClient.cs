using Google.Protobuf;
using Grpc.Core;
using Grpc.Testing;
using Midia.Interop.Server;

namespace Midia.Interop.Client;

/// <summary>A case's assertion did not hold; the message says what was received instead.</summary>
public sealed class InteropCaseFailedException(string message) : Exception(message);

/// <summary>
/// Our client side of the interop cases (grpc/grpc doc/interop-test-descriptions.md), the same
/// list the Python and Node drivers run, on grpc-dotnet's generated TestServiceClient over the
/// invoker of a <see cref="Midia.Trust.NetworkChannel"/>. grpc-dotnet does not expose a received
/// message's compressed flag, so the server_compressed cases check the payloads; the flag itself
/// is checked on the raw HTTP/2 response in the tests.
/// </summary>
public sealed class InteropClient(CallInvoker invoker)
{
    readonly TestService.TestServiceClient client = new(invoker);
    readonly UnimplementedService.UnimplementedServiceClient unimplemented = new(invoker);

    public static readonly IReadOnlyList<string> Cases =
    [
        "empty_unary", "large_unary", "client_compressed_unary", "server_compressed_unary", "client_streaming",
        "client_compressed_streaming", "server_streaming", "server_compressed_streaming", "ping_pong", "empty_stream",
        "custom_metadata", "status_code_and_message", "special_status_message", "unimplemented_method",
        "unimplemented_service", "cancel_after_begin", "cancel_after_first_response", "timeout_on_sleeping_server",
    ];

    public const string SpecialStatusMessage = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n";
    const string InitialValue = "test_initial_metadata_value";
    static readonly byte[] TrailingValue = [0xab, 0xab, 0xab];
    // Generous, so that a broken server fails a case instead of hanging the run.
    static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs one case; throws <see cref="InteropCaseFailedException"/> or <see cref="RpcException"/> when it fails.</summary>
    public Task RunAsync(string interopCase) => interopCase switch
    {
        "empty_unary" => EmptyUnary(),
        "large_unary" => LargeUnary(),
        "client_compressed_unary" => ClientCompressedUnary(),
        "server_compressed_unary" => ServerCompressedUnary(),
        "client_streaming" => ClientStreaming(),
        "client_compressed_streaming" => ClientCompressedStreaming(),
        "server_streaming" => ServerStreaming(),
        "server_compressed_streaming" => ServerCompressedStreaming(),
        "ping_pong" => PingPong(),
        "empty_stream" => EmptyStream(),
        "custom_metadata" => CustomMetadata(),
        "status_code_and_message" => StatusCodeAndMessage(),
        "special_status_message" => SpecialStatusMessageCase(),
        "unimplemented_method" => ExpectStatus(() => Unary(o => client.UnimplementedCallAsync(new Empty(), o)), StatusCode.Unimplemented, "TestService/UnimplementedCall"),
        "unimplemented_service" => ExpectStatus(() => Unary(o => unimplemented.UnimplementedCallAsync(new Empty(), o)), StatusCode.Unimplemented, "UnimplementedService/UnimplementedCall"),
        "cancel_after_begin" => CancelAfterBegin(),
        "cancel_after_first_response" => CancelAfterFirstResponse(),
        "timeout_on_sleeping_server" => TimeoutOnSleepingServer(),
        _ => throw new ArgumentException($"unknown interop case '{interopCase}'; known: {string.Join(", ", Cases)}"),
    };

    /// <summary>Null when the case passed, else why it failed (one line per case, as the drivers print).</summary>
    public async Task<string?> TryRunAsync(string interopCase)
    {
        try
        {
            await RunAsync(interopCase);
            return null;
        }
        catch (InteropCaseFailedException e) { return e.Message; }
        catch (RpcException e) { return $"status {e.StatusCode} ({e.Status.Detail})"; }
    }

    async Task EmptyUnary()
    {
        var response = await Unary(o => client.EmptyCallAsync(new Empty(), o));
        Check(response is not null, "no response");
    }

    async Task LargeUnary() =>
        CheckBody((await Unary(o => client.UnaryCallAsync(new SimpleRequest { ResponseSize = 314159, Payload = Zeros(271828) }, o))).Payload, 314159);

    async Task ClientCompressedUnary()
    {
        SimpleRequest Request(bool expect) => new() { ExpectCompressed = new BoolValue { Value = expect }, ResponseSize = 314159, Payload = Zeros(271828) };
        await ExpectStatus(() => Unary(o => client.UnaryCallAsync(Request(true), o)), StatusCode.InvalidArgument, "uncompressed probe");
        CheckBody((await Unary(o => client.UnaryCallAsync(Request(true), o), Gzip())).Payload, 314159);
        CheckBody((await Unary(o => client.UnaryCallAsync(Request(false), o))).Payload, 314159);
    }

    async Task ServerCompressedUnary()
    {
        foreach (var compressed in new[] { true, false })
        {
            var request = new SimpleRequest { ResponseCompressed = new BoolValue { Value = compressed }, ResponseSize = 314159, Payload = Zeros(271828) };
            CheckBody((await Unary(o => client.UnaryCallAsync(request, o))).Payload, 314159);
        }
    }

    async Task ClientStreaming()
    {
        using var call = client.StreamingInputCall(Options());
        foreach (var size in new[] { 27182, 8, 1828, 45904 })
            await call.RequestStream.WriteAsync(new StreamingInputCallRequest { Payload = Zeros(size) });
        await call.RequestStream.CompleteAsync();
        var response = await call.ResponseAsync;
        Check(response.AggregatedPayloadSize == 74922, $"aggregated_payload_size {response.AggregatedPayloadSize}, expected 74922");
    }

    async Task ClientCompressedStreaming()
    {
        StreamingInputCallRequest Request(bool expect, int size) => new() { ExpectCompressed = new BoolValue { Value = expect }, Payload = Zeros(size) };
        await ExpectStatus(async () =>
        {
            using var probe = client.StreamingInputCall(Options());
            await probe.RequestStream.WriteAsync(Request(true, 27182));
            await probe.RequestStream.CompleteAsync();
            return await probe.ResponseAsync;
        }, StatusCode.InvalidArgument, "uncompressed probe");

        using var call = client.StreamingInputCall(Gzip());
        await call.RequestStream.WriteAsync(Request(true, 27182));
        call.RequestStream.WriteOptions = new WriteOptions(WriteFlags.NoCompress);
        await call.RequestStream.WriteAsync(Request(false, 45904));
        await call.RequestStream.CompleteAsync();
        var response = await call.ResponseAsync;
        Check(response.AggregatedPayloadSize == 73086, $"aggregated_payload_size {response.AggregatedPayloadSize}, expected 73086");
    }

    async Task ServerStreaming()
    {
        int[] sizes = [31415, 9, 2653, 58979];
        var request = new StreamingOutputCallRequest();
        request.ResponseParameters.AddRange(sizes.Select(size => new ResponseParameters { Size = size }));
        using var call = client.StreamingOutputCall(request, Options());
        var responses = await ReadAll(call.ResponseStream);
        Check(responses.Count == 4, $"{responses.Count} responses, expected 4");
        for (var i = 0; i < sizes.Length; i++) CheckBody(responses[i].Payload, sizes[i]);
    }

    async Task ServerCompressedStreaming()
    {
        var request = new StreamingOutputCallRequest();
        request.ResponseParameters.Add(new ResponseParameters { Size = 31415, Compressed = new BoolValue { Value = true } });
        request.ResponseParameters.Add(new ResponseParameters { Size = 92653, Compressed = new BoolValue { Value = false } });
        using var call = client.StreamingOutputCall(request, Options());
        var responses = await ReadAll(call.ResponseStream);
        Check(responses.Count == 2, $"{responses.Count} responses, expected 2");
        CheckBody(responses[0].Payload, 31415);
        CheckBody(responses[1].Payload, 92653);
    }

    async Task PingPong()
    {
        using var call = client.FullDuplexCall(Options());
        foreach (var (requestSize, responseSize) in new[] { (27182, 31415), (8, 9), (1828, 2653), (45904, 58979) })
        {
            await call.RequestStream.WriteAsync(Ask(responseSize, requestSize));
            Check(await call.ResponseStream.MoveNext(CancellationToken.None), $"stream ended before the response of {responseSize} bytes");
            CheckBody(call.ResponseStream.Current.Payload, responseSize);
        }
        await call.RequestStream.CompleteAsync();
        Check(!await call.ResponseStream.MoveNext(CancellationToken.None), "more than four responses");
    }

    async Task EmptyStream()
    {
        using var call = client.FullDuplexCall(Options());
        await call.RequestStream.CompleteAsync();
        var responses = await ReadAll(call.ResponseStream);
        Check(responses.Count == 0, $"{responses.Count} responses, expected none");
    }

    async Task CustomMetadata()
    {
        Metadata Echo() => new() { { InteropTestService.EchoInitialKey, InitialValue }, { InteropTestService.EchoTrailingKey, TrailingValue } };

        using (var unary = client.UnaryCallAsync(new SimpleRequest { ResponseSize = 314159, Payload = Zeros(271828) }, Options(Echo())))
        {
            CheckBody((await unary.ResponseAsync).Payload, 314159);
            CheckEchoed(await unary.ResponseHeadersAsync, unary.GetTrailers(), "UnaryCall");
        }

        using var duplex = client.FullDuplexCall(Options(Echo()));
        await duplex.RequestStream.WriteAsync(Ask(314159, 271828));
        await duplex.RequestStream.CompleteAsync();
        var responses = await ReadAll(duplex.ResponseStream);
        Check(responses.Count == 1, $"{responses.Count} streamed responses, expected 1");
        CheckBody(responses[0].Payload, 314159);
        CheckEchoed(await duplex.ResponseHeadersAsync, duplex.GetTrailers(), "FullDuplexCall");
    }

    static void CheckEchoed(Metadata headers, Metadata trailers, string what)
    {
        var initial = headers.GetValue(InteropTestService.EchoInitialKey);
        Check(initial == InitialValue, $"{what}: {InteropTestService.EchoInitialKey} in headers is '{initial}', expected '{InitialValue}'");
        var trailing = trailers.GetValueBytes(InteropTestService.EchoTrailingKey);
        Check(trailing is not null && trailing.SequenceEqual(TrailingValue),
            $"{what}: {InteropTestService.EchoTrailingKey} in trailers is {(trailing is null ? "missing" : Convert.ToHexString(trailing))}, expected ABABAB");
    }

    async Task StatusCodeAndMessage()
    {
        var status = new EchoStatus { Code = 2, Message = "test status message" };
        var unary = await ExpectStatus(() => Unary(o => client.UnaryCallAsync(new SimpleRequest { ResponseStatus = status }, o)), StatusCode.Unknown, "UnaryCall");
        Check(unary.Status.Detail == status.Message, $"UnaryCall message '{unary.Status.Detail}', expected '{status.Message}'");

        var duplex = await ExpectStatus(async () =>
        {
            using var call = client.FullDuplexCall(Options());
            await call.RequestStream.WriteAsync(new StreamingOutputCallRequest { ResponseStatus = status });
            await call.RequestStream.CompleteAsync();
            return await ReadAll(call.ResponseStream);
        }, StatusCode.Unknown, "FullDuplexCall");
        Check(duplex.Status.Detail == status.Message, $"FullDuplexCall message '{duplex.Status.Detail}', expected '{status.Message}'");
    }

    async Task SpecialStatusMessageCase()
    {
        var request = new SimpleRequest { ResponseStatus = new EchoStatus { Code = 2, Message = SpecialStatusMessage } };
        var e = await ExpectStatus(() => Unary(o => client.UnaryCallAsync(request, o)), StatusCode.Unknown, "UnaryCall");
        Check(e.Status.Detail == SpecialStatusMessage, $"message '{e.Status.Detail}', expected the special message");
    }

    async Task CancelAfterBegin()
    {
        using var cts = new CancellationTokenSource();
        using var call = client.StreamingInputCall(Options().WithCancellationToken(cts.Token));
        await cts.CancelAsync();
        await ExpectStatus(() => call.ResponseAsync, StatusCode.Cancelled, "StreamingInputCall");
    }

    async Task CancelAfterFirstResponse()
    {
        using var cts = new CancellationTokenSource();
        using var call = client.FullDuplexCall(Options().WithCancellationToken(cts.Token));
        await call.RequestStream.WriteAsync(Ask(31415, 27182));
        Check(await call.ResponseStream.MoveNext(CancellationToken.None), "no first response");
        CheckBody(call.ResponseStream.Current.Payload, 31415);
        await cts.CancelAsync();
        await ExpectStatus(() => call.ResponseStream.MoveNext(CancellationToken.None), StatusCode.Cancelled, "after cancel");
    }

    async Task TimeoutOnSleepingServer()
    {
        using var call = client.FullDuplexCall(new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(1)));
        await ExpectStatus(async () =>
        {
            // The deadline may pass before the write; then the write itself reports it.
            await call.RequestStream.WriteAsync(new StreamingOutputCallRequest { Payload = Zeros(27182) });
            return await call.ResponseStream.MoveNext(CancellationToken.None);
        }, StatusCode.DeadlineExceeded, "FullDuplexCall");
    }

    static async Task<TResponse> Unary<TResponse>(Func<CallOptions, AsyncUnaryCall<TResponse>> start, CallOptions? options = null)
    {
        using var call = start(options ?? Options());
        return await call.ResponseAsync;
    }

    static async Task<List<T>> ReadAll<T>(IAsyncStreamReader<T> stream)
    {
        var all = new List<T>();
        while (await stream.MoveNext(CancellationToken.None)) all.Add(stream.Current);
        return all;
    }

    static async Task<RpcException> ExpectStatus<T>(Func<Task<T>> call, StatusCode code, string what)
    {
        try
        {
            await call();
        }
        catch (RpcException e)
        {
            Check(e.StatusCode == code, $"{what}: status {e.StatusCode} ({e.Status.Detail}), expected {code}");
            return e;
        }
        throw new InteropCaseFailedException($"{what}: call succeeded, expected {code}");
    }

    static CallOptions Options(Metadata? headers = null) => new(headers, DateTime.UtcNow + CallTimeout);

    /// <summary>Request messages of this call go gzip-compressed (grpc-dotnet's per-call switch, a header it does not send).</summary>
    static CallOptions Gzip() => Options(new Metadata { { "grpc-internal-encoding-request", "gzip" } });

    static StreamingOutputCallRequest Ask(int responseSize, int requestSize)
    {
        var request = new StreamingOutputCallRequest { Payload = Zeros(requestSize) };
        request.ResponseParameters.Add(new ResponseParameters { Size = responseSize });
        return request;
    }

    static Payload Zeros(int size) => new() { Body = ByteString.CopyFrom(new byte[size]) };

    static void CheckBody(Payload? payload, int size)
    {
        var body = payload?.Body ?? ByteString.Empty;
        Check(body.Length == size, $"payload is {body.Length} bytes, expected {size}");
        Check(body.Span.IndexOfAnyExcept((byte)0) < 0, "payload body is not all zeros");
    }

    static void Check(bool condition, string message)
    {
        if (!condition) throw new InteropCaseFailedException(message);
    }
}
