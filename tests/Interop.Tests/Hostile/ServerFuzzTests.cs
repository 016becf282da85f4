using System.Buffers.Binary;
using System.IO.Compression;
using Google.Protobuf;
using Midia.Protos.Node.V1;
using Xunit.Abstractions;

namespace Midia.Interop.Tests.Hostile;

/// <summary>
/// Truncated, oversized and garbage frames and headers (seeded) against a real node server: every
/// input must end in a gRPC status, an HTTP error or a closed stream — bounded by a timeout,
/// never a hang — and the node must keep answering well-formed calls afterwards.
/// </summary>
[Collection(HostileCollection.Name)]
public sealed class ServerFuzzTests(HostileNode node, ITestOutputHelper output)
{
    // The node's RPCs of each kind it has (unary; reflection is its duplex one), one its caller may
    // not call (refused after the request is read), an unknown method, service and path.
    static readonly string[] Paths =
    [
        HostileNode.Target, "/midia.node.v1.SiteNode/CohortCount", "/midia.node.v1.SiteAdmin/Missing", "/grpc.health.v1.Health/Check",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "/nope/Nope", "/", "/midia.node.v1.SiteAdmin/",
    ];

    /// <summary>One malformed input: a body and extra headers, and whether it must fail.</summary>
    sealed record Input(string Kind, string Path, byte[] Body, (string, string)[] Headers, bool MustFail, string ContentType = "application/grpc");

    static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest)) gzip.Write(data);
        return output.ToArray();
    }

    static string RandomAscii(Random random, int length) =>
        new(Enumerable.Range(0, length).Select(_ => (char)random.Next(0x21, 0x7F)).ToArray());

    static IEnumerable<Input> Inputs(int seed, int count)
    {
        var random = new Random(seed);
        var valid = RawGrpc.Frame(new ListQueryTypesRequest());
        for (var i = 0; i < count; i++)
        {
            var path = Paths[random.Next(Paths.Length)];
            // The unary RPCs that exist: their single request message is read before anything else happens.
            var unary = path is HostileNode.Target or "/midia.node.v1.SiteNode/CohortCount" or "/grpc.health.v1.Health/Check";
            switch (random.Next(14))
            {
                case 0:
                    yield return new("garbage body", path, RandomBytes(random, random.Next(1, 300)), [], false);
                    break;
                case 1:
                    var cut = random.Next(1, valid.Length);
                    yield return new("truncated message", path, valid[..cut], [], unary);
                    break;
                case 2:
                    yield return new("length prefix larger than the body", path, RawGrpc.Frame(RandomBytes(random, 10), 0, (uint)random.Next(11, 1_000_000)), [], unary);
                    break;
                case 3:
                    yield return new("length prefix beyond the receive limit", path, RawGrpc.Frame(RandomBytes(random, 10), 0, (uint)random.Next(4 * 1024 * 1024 + 1, int.MaxValue)), [], unary);
                    break;
                case 4:
                    yield return new("bad compressed flag", path, RawGrpc.Frame(new ListQueryTypesRequest(), (byte)random.Next(2, 256)), [], unary);
                    break;
                case 5:
                    yield return new("compressed flag without grpc-encoding", path, RawGrpc.Frame(Gzip(new ListQueryTypesRequest().ToByteArray()), 1), [], unary);
                    break;
                case 6:
                    yield return new("gzip flag on garbage", path, RawGrpc.Frame(RandomBytes(random, random.Next(1, 100)), 1), [("grpc-encoding", "gzip")], unary);
                    break;
                case 7:
                    yield return new("bad grpc-timeout", path, valid, [("grpc-timeout", RandomAscii(random, random.Next(1, 12)))], false);
                    break;
                case 8:
                    // Metadata nobody reads is never decoded: a bad -bin value the node does not use is no reason to fail the call.
                    yield return new("invalid base64 in an unused -bin header", path, valid, [("x-fuzz-bin", "!" + RandomAscii(random, random.Next(0, 20)))], false);
                    break;
                case 9:
                    // An uncompressed message (flag 0) under an unknown grpc-encoding: grpc-dotnet looks at the encoding only for a compressed one.
                    yield return new("unknown grpc-encoding on an uncompressed message", path, valid, [("grpc-encoding", RandomAscii(random, random.Next(1, 10)))], false);
                    break;
                case 10:
                    yield return new("garbage content-type", path, valid, [], true, RandomAscii(random, random.Next(1, 30)));
                    break;
                case 11:
                    yield return new("two messages to a unary method", path, [.. valid, .. valid], [], unary);
                    break;
                case 12:
                    yield return new("protobuf garbage in a valid frame", path, RawGrpc.Frame(RandomBytes(random, random.Next(1, 64))), [], false);
                    break;
                default:
                    yield return new("random path", "/" + RandomAscii(random, random.Next(1, 40)).Replace("?", "").Replace("#", "").Replace("%", ""), valid, [], true);
                    break;
            }
        }
    }

    static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public async Task MalformedRequestsGetAStatusOrAClosedStreamAndTheNodeKeepsServing()
    {
        using var raw = node.Raw();
        var inputs = Inputs(seed: 20261122, count: 400).ToList();
        var outcomes = new Dictionary<string, int>();
        foreach (var batch in inputs.Chunk(16))
        {
            var results = await Task.WhenAll(batch.Select(async input =>
            {
                var response = await raw.SendAsync(input.Path, input.Body, input.Headers, input.ContentType, timeout: TimeSpan.FromSeconds(15));
                return (input, response);
            }));
            foreach (var (input, response) in results)
            {
                var outcome = response.Outcome;
                lock (outcomes) outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
                // 403: a path that is no gRPC method at all meets the network server's fallback policy.
                var acceptable = response.StreamError is not null
                    || response.HttpStatus is 403 or 404 or 405 or 415
                    || (response.HttpStatus == 200 && int.TryParse(response.GrpcStatus, out var code) && code is >= 0 and <= 16);
                Assert.True(acceptable, $"{input.Kind} on {input.Path}: {outcome}");
                if (input.MustFail) Assert.NotEqual("grpc-status 0", outcome);
            }
        }
        output.WriteLine($"{inputs.Count} malformed HTTP/2 requests: " + string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} x{o.Value}")));
        Assert.NotNull(await node.ListQueryTypesAsync());
    }

    // ---- raw HTTP/2 frames over TLS: below what any HTTP client would send ----

    const byte Data = RawHttp2.Data, HeadersFrame = RawHttp2.Headers, RstStream = RawHttp2.RstStream, Ping = RawHttp2.Ping,
        GoAway = RawHttp2.GoAway, WindowUpdate = RawHttp2.WindowUpdate, Continuation = RawHttp2.Continuation;
    const byte EndStream = RawHttp2.EndStream, EndHeaders = RawHttp2.EndHeaders;

    static byte[] Http2Frame(byte type, byte flags, int streamId, byte[] payload, int? declaredLength = null) =>
        RawHttp2.Frame(type, flags, streamId, payload, declaredLength);

    static IEnumerable<(string Kind, byte[] Bytes)> FrameInputs(int seed, int count)
    {
        var random = new Random(seed);
        // A ListQueryTypesRequest with one unknown field (15, "raw"), which the empty message skips.
        var message = RawGrpc.Frame([0x7A, 3, (byte)'r', (byte)'a', (byte)'w']);
        var headers = RawHttp2.RequestHeaders(HostileNode.Target);
        for (var i = 0; i < count; i++)
        {
            switch (random.Next(10))
            {
                case 0: yield return ("random bytes after the preface", RandomBytes(random, random.Next(1, 200))); break;
                case 1: yield return ("garbage HPACK block", Http2Frame(HeadersFrame, EndHeaders | EndStream, 1, RandomBytes(random, random.Next(1, 100)))); break;
                case 2: yield return ("DATA on stream 0", Http2Frame(Data, 0, 0, message)); break;
                case 3: yield return ("frame longer than the maximum size", Http2Frame(Data, 0, 1, RandomBytes(random, 16), declaredLength: 1 << 23)); break;
                case 4:
                    var cut = random.Next(1, message.Length);
                    yield return ("truncated gRPC message, stream ended", [.. Http2Frame(HeadersFrame, EndHeaders, 1, headers), .. Http2Frame(Data, EndStream, 1, message[..cut])]);
                    break;
                case 5:
                    yield return ("headers then RST_STREAM mid-message", [.. Http2Frame(HeadersFrame, EndHeaders, 1, headers), .. Http2Frame(Data, 0, 1, message[..3]), .. Http2Frame(RstStream, 0, 1, [0, 0, 0, 8])]);
                    break;
                case 6: yield return ("CONTINUATION without HEADERS", Http2Frame(Continuation, EndHeaders, 1, headers)); break;
                case 7: yield return ("WINDOW_UPDATE of zero", [.. Http2Frame(HeadersFrame, EndHeaders, 1, headers), .. Http2Frame(WindowUpdate, 0, 1, [0, 0, 0, 0])]); break;
                case 8: yield return ("even (server) stream id", [.. Http2Frame(HeadersFrame, EndHeaders | EndStream, 2, headers)]); break;
                default:
                    var declared = random.Next(message.Length + 1, 1 << 20);
                    var lying = message.ToArray();
                    BinaryPrimitives.WriteUInt32BigEndian(lying.AsSpan(1), (uint)declared);
                    yield return ("gRPC length prefix beyond the stream", [.. Http2Frame(HeadersFrame, EndHeaders, 1, headers), .. Http2Frame(Data, EndStream, 1, lying)]);
                    break;
            }
        }
    }

    /// <summary>Sends preface + SETTINGS + the input; done when the server answers on stream 1, resets it, sends GOAWAY or closes.</summary>
    async Task<string> SendRawAsync(string kind, byte[] input, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await using var connection = await RawHttp2.ConnectAsync(node.Address, node.Admin, cts.Token);
        // After a client reset nothing more comes for the stream: a PING answered proves the connection still works.
        var silent = kind.Contains("RST_STREAM", StringComparison.Ordinal);
        try
        {
            await connection.WriteAsync(silent ? [.. input, .. Http2Frame(Ping, 0, 0, new byte[8])] : input, cts.Token);
            while (true)
            {
                var frame = await connection.ReadFrameAsync(cts.Token);
                if (frame.Type == GoAway) return "GOAWAY";
                if (frame.Type == Ping && (frame.Flags & RawHttp2.Ack) != 0 && silent) return "reset by client, PING answered";
                if (frame.Type == RstStream && frame.StreamId > 0) return "RST_STREAM";
                // Kestrel answers every gRPC outcome with HEADERS; END_STREAM on them or on trailers ends the call.
                if (frame.Type == HeadersFrame && frame.StreamId > 0 && (frame.Flags & EndStream) != 0) return "status";
            }
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            return "closed";
        }
    }

    [Fact]
    public async Task GarbageHttp2FramesEndInAStatusResetGoAwayOrCloseAndTheNodeKeepsServing()
    {
        var inputs = FrameInputs(seed: 7, count: 120).ToList();
        var outcomes = new Dictionary<string, int>();
        foreach (var batch in inputs.Chunk(8))
        {
            var results = await Task.WhenAll(batch.Select(async input =>
            {
                try { return (input.Kind, Outcome: await SendRawAsync(input.Kind, input.Bytes, TimeSpan.FromSeconds(15))); }
                catch (OperationCanceledException) { return (input.Kind, Outcome: $"TIMEOUT ({input.Kind})"); }
            }));
            foreach (var (kind, outcome) in results) outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }
        output.WriteLine($"{inputs.Count} raw HTTP/2 frame inputs: " + string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} x{o.Value}")));
        Assert.Equal(inputs.Count, outcomes.Values.Sum());
        Assert.DoesNotContain(outcomes.Keys, o => o.StartsWith("TIMEOUT", StringComparison.Ordinal));
        Assert.NotNull(await node.ListQueryTypesAsync());
    }
}
