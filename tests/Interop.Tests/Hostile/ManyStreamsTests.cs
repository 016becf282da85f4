using System.Buffers.Binary;
using Midia.Protos.Node.V1;
using Xunit.Abstractions;

namespace Midia.Interop.Tests.Hostile;

/// <summary>
/// Many streams at once against a real node server: hundreds of calls on one HTTP/2 connection are
/// all answered, and a client that opens more streams than the connection allows (1000, the
/// network server's limit) has the excess refused while the node keeps serving.
/// </summary>
[Collection(HostileCollection.Name)]
public sealed class ManyStreamsTests(HostileNode node, ITestOutputHelper output)
{
    const int StreamLimit = 1000; // NetworkServerOptions.MaxStreamsPerConnection

    [Fact]
    public async Task FiveHundredConcurrentCallsOnOneConnectionAreAllAnswered()
    {
        using var raw = node.Raw(multipleConnections: false);
        var request = RawGrpc.Frame(new ListQueryTypesRequest());
        var responses = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => raw.SendAsync(HostileNode.Target, request, timeout: TimeSpan.FromSeconds(60))));
        Assert.All(responses, r => Assert.Equal("grpc-status 0", r.Outcome));
    }

    /// <summary>
    /// 1,020 requests opened on one connection in one burst (headers, no body): Kestrel refuses
    /// the 20 over the limit with RST_STREAM(REFUSED_STREAM) — a client may retry those — and the
    /// node answers a well-formed call while the other 1,000 hang.
    /// </summary>
    [Fact]
    public async Task StreamsOverTheConnectionLimitAreRefusedAndTheNodeKeepsServing()
    {
        const int extra = 20;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var connection = await RawHttp2.ConnectAsync(node.Address, node.Admin, cts.Token);
        var headers = RawHttp2.RequestHeaders(HostileNode.Target);
        var burst = new List<byte>();
        for (var i = 0; i < StreamLimit + extra; i++) burst.AddRange(RawHttp2.Frame(RawHttp2.Headers, RawHttp2.EndHeaders, 1 + 2 * i, headers));
        await connection.WriteAsync([.. burst], cts.Token);

        var refused = new SortedSet<int>();
        while (refused.Count < extra)
        {
            var frame = await connection.ReadFrameAsync(cts.Token);
            Assert.NotEqual(RawHttp2.GoAway, frame.Type);
            if (frame.Type == RawHttp2.RstStream && BinaryPrimitives.ReadInt32BigEndian(frame.Payload) == RawHttp2.RefusedStream) refused.Add(frame.StreamId);
        }
        output.WriteLine($"refused streams {refused.Min}..{refused.Max}");
        // The last ones opened are the ones over the limit.
        Assert.Equal(Enumerable.Range(StreamLimit, extra).Select(i => 1 + 2 * i), refused);

        Assert.NotNull(await node.ListQueryTypesAsync());
    }
}
