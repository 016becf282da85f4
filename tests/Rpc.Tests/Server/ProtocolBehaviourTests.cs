using System.IO.Compression;
using System.Text;
using Google.Protobuf;
using Midia.Rpc.Core;
using Midia.Rpc.Tests.Proto;
using Midia.Rpc.Tests.Support;

namespace Midia.Rpc.Tests.Server;

/// <summary>What the server puts on the wire, checked with raw HTTP/2 requests (independent of our client).</summary>
[Collection(NetworkCollection.Name)]
public sealed class ProtocolBehaviourTests(TestNetwork network)
{
    const string Unary = "/midia.rpc.test.Echo/Unary";

    static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal)) gzip.Write(data);
        return output.ToArray();
    }

    [Fact]
    public async Task ASuccessfulUnaryCallHasHeadersOneMessageAndGrpcStatusZeroInTrailers()
    {
        using var raw = new RawGrpc(network);
        var response = await raw.SendAsync(Unary, RawGrpc.Frame(new EchoRequest { Text = "hi" }));
        Assert.Equal(200, response.HttpStatus);
        Assert.Equal("application/grpc", response.Headers["content-type"]);
        Assert.Equal("0", response.Trailers["grpc-status"]);
        Assert.False(response.Headers.ContainsKey("grpc-status"));
        Assert.Equal(0, response.Body[0]);
        Assert.Equal("hi", EchoReply.Parser.ParseFrom(response.Body.AsSpan(5).ToArray()).Text);
    }

    [Fact]
    public async Task AnImmediateErrorIsATrailersOnlyResponse()
    {
        using var raw = new RawGrpc(network);
        var response = await raw.SendAsync(Unary, RawGrpc.Frame(new EchoRequest { StatusCode = (int)StatusCode.NotFound, StatusMessage = "nope" }));
        Assert.True(response.TrailersOnly);
        Assert.Equal("5", response.Headers["grpc-status"]);
        Assert.Equal("nope", response.Headers["grpc-message"]);
    }

    [Fact]
    public async Task StatusMessagesArePercentEncodedUtf8OnTheWire()
    {
        using var raw = new RawGrpc(network);
        var message = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n";
        var response = await raw.SendAsync(Unary, RawGrpc.Frame(new EchoRequest { StatusCode = 2, StatusMessage = message }));
        // Expected independently: printable ASCII except '%' stays, every other UTF-8 byte is %XX.
        var expected = string.Concat(Encoding.UTF8.GetBytes(message).Select(b => b is >= 0x20 and <= 0x7E and not (byte)'%' ? ((char)b).ToString() : $"%{b:X2}"));
        Assert.Equal(expected, response.GrpcMessage);
        Assert.All(response.GrpcMessage!, c => Assert.InRange(c, ' ', '~'));
    }

    [Fact]
    public async Task AnUnknownMethodOrServiceIsUnimplementedTrailersOnly()
    {
        using var raw = new RawGrpc(network);
        var method = await raw.SendAsync("/midia.rpc.test.Echo/NoSuchMethod", RawGrpc.Frame(new EchoRequest()));
        var service = await raw.SendAsync("/no.such.Service/Call", RawGrpc.Frame(new EchoRequest()));
        Assert.True(method.TrailersOnly);
        Assert.Equal("12", method.GrpcStatus);
        Assert.Equal("Method is unimplemented.", method.GrpcMessage);
        Assert.Equal("12", service.GrpcStatus);
        Assert.Equal("Service is unimplemented.", service.GrpcMessage);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("text/plain")]
    [InlineData("application/grpc+json")]
    public async Task AWrongContentTypeIsHttp415(string contentType)
    {
        using var raw = new RawGrpc(network);
        var response = await raw.SendAsync(Unary, RawGrpc.Frame(new EchoRequest()), contentType: contentType);
        Assert.Equal(415, response.HttpStatus);
    }

    [Theory]
    [InlineData("application/grpc+proto")]
    [InlineData("application/grpc; charset=utf-8")]
    public async Task GrpcContentTypeVariantsAreAccepted(string contentType)
    {
        using var raw = new RawGrpc(network);
        var response = await raw.SendAsync(Unary, RawGrpc.Frame(new EchoRequest { Text = "ok" }), contentType: contentType);
        Assert.Equal("0", response.GrpcStatus);
    }

    [Fact]
    public async Task GrpcTimeoutFromTheRequestCancelsTheHandlerAndAnswersDeadlineExceeded()
    {
        using var raw = new RawGrpc(network);
        var key = Guid.NewGuid().ToString();
        var response = await raw.SendAsync("/midia.rpc.test.Echo/Sleep", RawGrpc.Frame(new EchoRequest { Text = key }), [("grpc-timeout", "200m")]);
        Assert.Equal("4", response.GrpcStatus);
        await network.Echo.Cancelled[key].Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task TheDeadlineAnswersEvenWhenTheHandlerIgnoresItsToken()
    {
        using var raw = new RawGrpc(network);
        var key = Guid.NewGuid().ToString();
        var response = await raw.SendAsync("/midia.rpc.test.Echo/Sleep", RawGrpc.Frame(new EchoRequest { Text = key, Count = 3000 }), [("grpc-timeout", "100m")]);
        Assert.Equal("4", response.GrpcStatus);
        Assert.False(network.Echo.Finished.ContainsKey(key));
    }

    [Fact]
    public async Task TheServerSeesTheDeadlineOfGrpcTimeout()
    {
        using var raw = new RawGrpc(network);
        var response = await raw.SendAsync(Unary, RawGrpc.Frame(new EchoRequest()), [("grpc-timeout", "30S")]);
        var remaining = EchoReply.Parser.ParseFrom(response.Body.AsSpan(5).ToArray()).DeadlineMs;
        Assert.InRange(remaining, 1, 30_000);
    }

    [Fact]
    public async Task BinaryMetadataIsAcceptedPaddedAndUnpadded()
    {
        using var raw = new RawGrpc(network);
        var bytes = new byte[] { 0, 1, 2, 250, 251 };  // base64 "AAEC+vs=" needs padding
        var padded = await raw.SendAsync(Unary, RawGrpc.Frame(new EchoRequest()), [("x-data-bin", "AAEC+vs=")]);
        var unpadded = await raw.SendAsync(Unary, RawGrpc.Frame(new EchoRequest()), [("x-data-bin", "AAEC+vs")]);
        foreach (var response in new[] { padded, unpadded })
        {
            Assert.Equal("0", response.GrpcStatus);
            Assert.Equal(bytes, Convert.FromBase64String(response.Headers["x-data-bin"].PadRight(8, '=')));
            Assert.Equal(bytes, Convert.FromBase64String(response.Trailers["x-data-bin"].PadRight(8, '=')));
        }
    }

    [Fact]
    public async Task AMessageOverTheReceiveLimitIsResourceExhausted()
    {
        using var raw = new RawGrpc(network);
        var payload = new EchoRequest { Payload = ByteString.CopyFrom(new byte[4 * 1024 * 1024 + 1]) };
        var response = await raw.SendAsync(Unary, RawGrpc.Frame(payload));
        Assert.Equal("8", response.GrpcStatus);
    }

    [Fact]
    public async Task AGzipBombIsResourceExhaustedNotOutOfMemory()
    {
        using var raw = new RawGrpc(network);
        // 64 MiB of zeros inflates from ~64 KB: far beyond the 4 MiB limit once decompressed.
        var bomb = Gzip(new EchoRequest { Payload = ByteString.CopyFrom(new byte[64 * 1024 * 1024]) }.ToByteArray());
        Assert.True(bomb.Length < 4 * 1024 * 1024);
        var response = await raw.SendAsync(Unary, RawGrpc.Frame(bomb, flag: 1), [("grpc-encoding", "gzip")]);
        Assert.Equal("8", response.GrpcStatus);
    }

    [Fact]
    public async Task AGzipCompressedRequestIsDecompressed()
    {
        using var raw = new RawGrpc(network);
        var response = await raw.SendAsync(Unary, RawGrpc.Frame(Gzip(new EchoRequest { Text = "zipped" }.ToByteArray()), flag: 1), [("grpc-encoding", "gzip")]);
        Assert.Equal("0", response.GrpcStatus);
        Assert.Equal("zipped", EchoReply.Parser.ParseFrom(response.Body.AsSpan(5).ToArray()).Text);
    }

    [Fact]
    public async Task AnUnknownEncodingIsUnimplementedAndNamesWhatIsSupported()
    {
        using var raw = new RawGrpc(network);
        var response = await raw.SendAsync(Unary, RawGrpc.Frame(new EchoRequest()), [("grpc-encoding", "br")]);
        Assert.Equal("12", response.GrpcStatus);
        Assert.Contains("gzip", response.Headers["grpc-accept-encoding"]);
    }

    [Fact]
    public async Task AResponseIsNotCompressedForAClientThatDoesNotAcceptGzip()
    {
        using var raw = new RawGrpc(network);
        var response = await raw.SendAsync(Unary, RawGrpc.Frame(new EchoRequest { Text = "compress-response", Count = 1000 }), [("grpc-accept-encoding", "identity")]);
        Assert.Equal("0", response.GrpcStatus);
        Assert.False(response.Headers.ContainsKey("grpc-encoding"));
        Assert.Equal(0, response.Body[0]);
        Assert.Equal(1000, EchoReply.Parser.ParseFrom(response.Body.AsSpan(5).ToArray()).Payload.Length);
    }

    [Fact]
    public async Task AnUncaughtHandlerExceptionIsUnknownWithoutItsDetails()
    {
        using var raw = new RawGrpc(network);
        var response = await raw.SendAsync(Unary, RawGrpc.Frame(new EchoRequest { StatusCode = -1 }));
        Assert.Equal("2", response.GrpcStatus);
        Assert.DoesNotContain("secret", response.GrpcMessage);
    }

    [Fact]
    public async Task AHandlerCanCompressItsResponseWithGzip()
    {
        using var raw = new RawGrpc(network);
        var response = await raw.SendAsync(Unary, RawGrpc.Frame(new EchoRequest { Text = "compress-response", Count = 10_000 }), [("grpc-accept-encoding", "gzip")]);
        Assert.Equal("gzip", response.Headers["grpc-encoding"]);
        Assert.Equal(1, response.Body[0]);
        using var inflated = new GZipStream(new MemoryStream(response.Body, 5, response.Body.Length - 5), CompressionMode.Decompress);
        var reply = EchoReply.Parser.ParseFrom(inflated);
        Assert.Equal(10_000, reply.Payload.Length);
        Assert.True(response.Body.Length < 1000);
    }
}
