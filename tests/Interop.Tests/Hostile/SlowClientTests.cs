using System.Net;
using Midia.Protos.Node.V1;
using Xunit.Abstractions;

namespace Midia.Interop.Tests.Hostile;

/// <summary>A request body written one byte per DATA frame: message and frame boundaries are unrelated (a slow sender's pace).</summary>
public sealed class TricklingContent(byte[] body) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        foreach (var b in body)
        {
            await stream.WriteAsync(new[] { b });
            await stream.FlushAsync();
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}

/// <summary>A request body that stops after its first bytes and never sends the rest: the stalled client of a slowloris.</summary>
public sealed class StalledContent(byte[] start) : HttpContent
{
    readonly TaskCompletionSource sent = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Done once the first bytes went out.</summary>
    public Task Sent => sent.Task;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(start, cancellationToken);
        await stream.FlushAsync(cancellationToken);
        sent.TrySetResult();
        // The rest never comes; the request ends when the server answers it (HttpClient then stops
        // the upload through this token) or the client gives up.
        try { await Task.Delay(Timeout.Infinite, cancellationToken); }
        catch (OperationCanceledException) { }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}

/// <summary>Clients that send slowly, or stop sending, against a real node server: the node serves everyone else meanwhile.</summary>
[Collection(HostileCollection.Name)]
public sealed class SlowClientTests(HostileNode node, ITestOutputHelper output)
{
    // A ListQueryTypesRequest with an unknown field (15) of 40 bytes, so the message spans many frames.
    static readonly byte[] Message = RawGrpc.Frame([0x7A, 40, .. new byte[40]]);

    [Fact]
    public async Task AUnaryRequestArrivingOneByteAtATimeIsAnswered()
    {
        using var raw = node.Raw();
        var response = await raw.SendAsync(HostileNode.Target, new TricklingContent(Message));
        Assert.Equal("grpc-status 0", response.Outcome);
        Assert.NotNull(QueryTypesReply.Parser.ParseFrom(Assert.Single(response.Messages).Bytes));
    }

    /// <summary>
    /// Twenty clients send headers and three bytes of a message, then nothing: the node answers a
    /// well-formed call while they hang, and ends each stalled call itself when its deadline
    /// (grpc-timeout) passes — the client never sends the rest.
    /// </summary>
    [Fact]
    public async Task StalledClientsHoldNoOneElseUpAndTheirDeadlinesEndThem()
    {
        using var raw = node.Raw(multipleConnections: false);
        var stalled = Enumerable.Range(0, 20).Select(_ => new StalledContent(Message[..3])).ToList();
        var calls = stalled.Select(content => raw.SendAsync(HostileNode.Target, content, [("grpc-timeout", "2S")], timeout: TimeSpan.FromSeconds(60))).ToList();
        await Task.WhenAll(stalled.Select(c => c.Sent)).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.NotNull(await node.ListQueryTypesAsync());

        var responses = await Task.WhenAll(calls);
        output.WriteLine(string.Join(", ", responses.GroupBy(r => $"{r.Outcome} (grpc-status {r.GrpcStatus} {r.GrpcMessage})").Select(g => $"{g.Key} x{g.Count()}")));
        // GRPC.md: the deadline passes on the server → DEADLINE_EXCEEDED (here trailers-only, the
        // request never having been read), then RST_STREAM(CANCEL) for the body still coming.
        Assert.All(responses, r =>
        {
            Assert.Equal("4", r.GrpcStatus);
            if (r.StreamError is not null) Assert.Equal(0x8, Assert.IsType<HttpProtocolException>(r.StreamError.InnerException).ErrorCode);
        });
    }
}
