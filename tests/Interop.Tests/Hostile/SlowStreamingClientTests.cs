using System.Buffers.Binary;
using Google.Protobuf;
using Grpc.Testing;
using Midia.Interop.Client;
using Midia.Trust;

namespace Midia.Interop.Tests.Hostile;

/// <summary>
/// Slow clients on streaming calls, which the node has none of: against our TestService on the
/// same network server (<see cref="InteropFixture.Host"/>). A client stream trickling one byte per
/// DATA frame is reassembled; a client that stops reading a large response stream is served at its
/// own pace (HTTP/2 flow control holds the writer) while every other call is answered.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class SlowStreamingClientTests(InteropFixture fixture) : IDisposable
{
    readonly TlsMaterial clientTls = fixture.Pki.ClientTls();

    public void Dispose() => clientTls.Dispose();

    [Fact]
    public async Task ClientStreamMessagesSplitAcrossManyDataFramesAreReassembled()
    {
        using var raw = new RawGrpc(fixture.Host.Address, clientTls);
        var body = new List<byte>();
        foreach (var size in new[] { 0, 7, 14 })
            body.AddRange(RawGrpc.Frame(new StreamingInputCallRequest { Payload = new Payload { Body = ByteString.CopyFrom(new byte[size]) } }));
        var response = await raw.SendAsync("/grpc.testing.TestService/StreamingInputCall", new TricklingContent([.. body]));
        Assert.Equal("grpc-status 0", response.Outcome);
        Assert.Equal(21, StreamingInputCallResponse.Parser.ParseFrom(Assert.Single(response.Messages).Bytes).AggregatedPayloadSize);
    }

    [Fact]
    public async Task AClientThatStopsReadingHoldsNoOneElseUpAndGetsEveryMessageWhenItReads()
    {
        const int count = 64, size = 256 * 1024; // 16 MiB: far beyond every flow-control window on the way
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var request = new StreamingOutputCallRequest();
        request.ResponseParameters.Add(Enumerable.Range(0, count).Select(_ => new ResponseParameters { Size = size }));
        using var slow = new RawGrpc(fixture.Host.Address, clientTls, multipleConnections: false);
        using var stalled = await slow.StartAsync("/grpc.testing.TestService/StreamingOutputCall", new ByteArrayContent(RawGrpc.Frame(request)),
            [("grpc-accept-encoding", "identity")], cts.Token);
        // Nothing of the response body is read yet.

        // Another client, and another call on the slow client's own connection, are answered meanwhile.
        using (var channel = InteropChannel.ToLoopback(fixture.Host.Port, clientTls))
        {
            var other = await new TestService.TestServiceClient(channel.Invoker).UnaryCallAsync(new SimpleRequest { ResponseSize = 1000 }, cancellationToken: cts.Token);
            Assert.Equal(1000, other.Payload.Body.Length);
        }
        var sameConnection = await slow.CallAsync("/grpc.testing.TestService/UnaryCall", new SimpleRequest { ResponseSize = 1000 });
        Assert.Equal("grpc-status 0", sameConnection.Outcome);

        // Now the slow client reads: every message, whole, then OK.
        var bytes = await stalled.Content.ReadAsByteArrayAsync(cts.Token);
        var sizes = new List<int>();
        for (var at = 0; at < bytes.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at + 1));
            sizes.Add(StreamingOutputCallResponse.Parser.ParseFrom(bytes.AsSpan(at + 5, length)).Payload.Body.Length);
            at += 5 + length;
        }
        Assert.Equal(Enumerable.Repeat(size, count), sizes);
        Assert.Equal("0", string.Join(",", stalled.TrailingHeaders.GetValues("grpc-status")));
    }
}
