using Google.Protobuf;
using Midia.Rpc.Core;
using Midia.Rpc.Tests.Proto;
using Midia.Rpc.Tests.Support;

namespace Midia.Rpc.Tests.Server;

[Collection(NetworkCollection.Name)]
public sealed class CallKindTests(TestNetwork network)
{
    [Fact]
    public async Task AUnaryCallReturnsTheEchoedMessageOverMutualTls()
    {
        using var channel = network.Channel();
        var invoker = channel.CreateCallInvoker();
        var call = invoker.AsyncUnaryCall(EchoMethods.Unary, new(), new EchoRequest { Text = "hello ☺", Payload = ByteString.CopyFromUtf8("abc") });
        var reply = await call;
        Assert.Equal("hello ☺", reply.Text);
        Assert.Equal("abc", reply.Payload.ToStringUtf8());
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task ManyUnaryCallsReuseOneChannel()
    {
        using var channel = network.Channel();
        var invoker = channel.CreateCallInvoker();
        var replies = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => invoker.AsyncUnaryCall(EchoMethods.Unary, new(), new EchoRequest { Text = $"m{i}" }).ResponseAsync));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"m{i}"), replies.Select(r => r.Text));
    }

    [Fact]
    public async Task AServerStreamingCallDeliversEveryMessageInOrder()
    {
        using var channel = network.Channel();
        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(EchoMethods.ServerStream, new(), new EchoRequest { Text = "s", Count = 25 });
        var indexes = new List<int>();
        await foreach (var reply in call.ResponseStream.ReadAllAsync()) indexes.Add(reply.Index);
        Assert.Equal(Enumerable.Range(0, 25), indexes);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task AnEmptyServerStreamEndsWithOk()
    {
        using var channel = network.Channel();
        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(EchoMethods.ServerStream, new(), new EchoRequest { Count = 0 });
        Assert.False(await call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task AClientStreamingCallSeesEveryRequestMessage()
    {
        using var channel = network.Channel();
        using var call = channel.CreateCallInvoker().AsyncClientStreamingCall(EchoMethods.ClientStream, new());
        int[] sizes = [27182, 8, 1828, 45904];
        foreach (var size in sizes) await call.RequestStream.WriteAsync(new EchoRequest { Text = size.ToString(), Payload = ByteString.CopyFrom(new byte[size]) });
        await call.RequestStream.CompleteAsync();
        var reply = await call;
        Assert.Equal("27182,8,1828,45904", reply.Text);
        Assert.Equal(sizes.Sum(), reply.Index);
    }

    [Fact]
    public async Task ADuplexCallAnswersEachMessageBeforeTheNextIsSent()
    {
        using var channel = network.Channel();
        using var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(EchoMethods.Duplex, new());
        for (var i = 0; i < 4; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Text = $"ping {i}" });
            Assert.True(await call.ResponseStream.MoveNext());
            Assert.Equal($"ping {i}", call.ResponseStream.Current.Text);
            Assert.Equal(i, call.ResponseStream.Current.Index);
        }
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task LargeMessagesCrossInBothDirections()
    {
        using var channel = network.Channel();
        var payload = new byte[3 * 1024 * 1024];
        new Random(7).NextBytes(payload);
        var reply = await channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, new(), new EchoRequest { Payload = ByteString.CopyFrom(payload) });
        Assert.Equal(payload, reply.Payload.ToByteArray());
    }

    [Fact]
    public async Task TheHandlerSeesTheCallerFromItsCertificate()
    {
        using var channel = network.Channel("node", "node-erlangen", "erlangen");
        var reply = await channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.WhoAmI, new(), new EchoRequest());
        Assert.Equal(("node-erlangen", "node", "erlangen"), (reply.PeerName, reply.PeerRole, reply.PeerSite));
    }
}
