using System.IO.Compression;
using Google.Protobuf;
using Midia.Protos.Node.V1;
using Xunit.Abstractions;

namespace Midia.Interop.Tests.Hostile;

/// <summary>
/// Malformed headers and bodies against a real node server over mutual TLS, one row each: the
/// gRPC status (or HTTP status) grpc-dotnet and Kestrel answer — and the node answers a
/// well-formed call after. Where grpc-dotnet's answer differs from what a stricter server might
/// say, the row says so; every row is a status or a clean HTTP error, never a hang or a crash.
/// </summary>
[Collection(HostileCollection.Name)]
public sealed class MalformedRequestTests(HostileNode node, ITestOutputHelper output)
{
    const int Limit = 4 * 1024 * 1024;
    // grpc-dotnet (EnableDetailedErrors off): an exception that is not an RpcException becomes
    // UNKNOWN with this text, never the exception's own message.
    const string HandlerException = "Exception was thrown by handler.";

    static byte[] Gzip(byte[] data)
    {
        using var stream = new MemoryStream();
        using (var gzip = new GZipStream(stream, CompressionLevel.Optimal)) gzip.Write(data);
        return stream.ToArray();
    }

    static readonly byte[] Valid = RawGrpc.Frame(new ListQueryTypesRequest());

    /// <summary>What a row sends and what it must get: a grpc-status, or an HTTP status for non-gRPC requests.</summary>
    sealed record Row(string Case, (string, string)[] Headers, byte[] Body, string Expected, string ContentType = "application/grpc", string? Te = "trailers");

    static IEnumerable<Row> Rows()
    {
        // grpc-dotnet ignores a grpc-timeout it cannot parse (and logs it): the call runs without a deadline.
        foreach (var timeout in new[] { "1", "S", "-1S", "1.5S", "1s", "1 S", "0x10S", "1SS", "99999999H1" })
            yield return new($"grpc-timeout '{timeout}'", [("grpc-timeout", timeout)], Valid, "grpc-status 0");
        foreach (var contentType in new[] { "application/json", "application/grpc-web", "application/grpcx", "text/plain; application/grpc" })
            yield return new($"content-type '{contentType}'", [], Valid, "HTTP 415", contentType);
        // grpc-dotnet decodes -bin metadata only when a handler or interceptor reads the request's
        // metadata; the node's do not, so a bad value in metadata it does not use is ignored. The one
        // -bin header the servers read, a portal's end-user claim, is refused when it is not base64.
        foreach (var value in new[] { "!!!!", "A", "AAAAA", "AA=A", "%%%%" })
            yield return new($"x-data-bin '{value}'", [("x-data-bin", value)], Valid, "grpc-status 0");
        yield return new("midia-end-user-bin not base64", [("midia-end-user-bin", "%%%%")], Valid, "grpc-status 7");
        foreach (var encoding in new[] { "br", "deflate-x", "gzip, br", "x-unknown" })
            yield return new($"grpc-encoding '{encoding}' on a compressed message", [("grpc-encoding", encoding)], RawGrpc.Frame(Gzip(new ListQueryTypesRequest().ToByteArray()), 1), "grpc-status 12");
        // te is the proxy-compatibility check of the spec; grpc-dotnet tolerates a missing or odd te.
        foreach (var te in new[] { null, "gzip", "trailers, deflate" })
            yield return new($"te '{te ?? "(none)"}'", [], Valid, "grpc-status 0", Te: te);
        yield return new("compressed flag without grpc-encoding", [], RawGrpc.Frame(Gzip(new ListQueryTypesRequest().ToByteArray()), 1), "grpc-status 13");
        yield return new("compressed flag with grpc-encoding identity", [("grpc-encoding", "identity")], RawGrpc.Frame(Gzip(new ListQueryTypesRequest().ToByteArray()), 1), "grpc-status 13");
        // grpc-dotnet reads a declared length above 2 GiB as an IOException ("Message too large"), so
        // UNKNOWN rather than RESOURCE_EXHAUSTED; nothing is allocated or read for it either way.
        yield return new("declared length 4 GiB - 1", [], RawGrpc.Frame(new byte[16], 0, uint.MaxValue), "grpc-status 2");
        yield return new("declared length 2 GiB - 1", [], RawGrpc.Frame(new byte[16], 0, int.MaxValue), "grpc-status 8");
        yield return new("declared length one over the limit", [], RawGrpc.Frame(new byte[16], 0, Limit + 1), "grpc-status 8");
        yield return new("length prefix beyond the body", [], RawGrpc.Frame(new byte[16], 0, 1000), "grpc-status 13");
        yield return new("four bytes of a header", [], [0, 0, 0, 0], "grpc-status 13");
        yield return new("no message at all", [], [], "grpc-status 13");
        yield return new("two messages to a unary method", [], [.. Valid, .. Valid], "grpc-status 13");
        yield return new("compressed flag 2", [], RawGrpc.Frame(new ListQueryTypesRequest(), 2), "grpc-status 2");
        yield return new("corrupt gzip", [("grpc-encoding", "gzip")], RawGrpc.Frame([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7], 1), "grpc-status 2");
        yield return new("protobuf garbage", [], RawGrpc.Frame([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]), "grpc-status 2");
    }

    [Fact]
    public async Task EveryMalformedHeaderOrBodyGetsItsStatusAndTheNodeKeepsServing()
    {
        using var raw = node.Raw();
        var failures = new List<string>();
        foreach (var row in Rows())
        {
            var response = await raw.SendAsync(HostileNode.Target, row.Body, row.Headers, row.ContentType, TimeSpan.FromSeconds(30), row.Te);
            output.WriteLine($"{row.Case}: {response.Outcome} {response.GrpcMessage}");
            if (response.Outcome != row.Expected) failures.Add($"{row.Case}: expected {row.Expected}, got {response.Outcome} ({response.GrpcMessage})");
            if (response.GrpcStatus == "2" && response.GrpcMessage != HandlerException) failures.Add($"{row.Case}: UNKNOWN says '{response.GrpcMessage}'");
        }
        Assert.Empty(failures);
        Assert.NotNull(await node.ListQueryTypesAsync());
    }

    [Theory]
    [InlineData("application/grpc")]
    [InlineData("application/grpc+proto")]
    [InlineData("application/grpc; charset=utf-8")]
    public async Task GrpcContentTypesAreAnswered(string contentType)
    {
        using var raw = node.Raw();
        var response = await raw.SendAsync(HostileNode.Target, Valid, contentType: contentType);
        Assert.Equal("grpc-status 0", response.Outcome);
        Assert.NotNull(QueryTypesReply.Parser.ParseFrom(Assert.Single(response.Messages).Bytes));
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("text/plain")]
    [InlineData("application/x-protobuf")]
    public async Task AContentTypeThatIsNotGrpcIsHttp415(string contentType)
    {
        using var raw = node.Raw();
        var response = await raw.SendAsync(HostileNode.Target, Valid, contentType: contentType);
        Assert.Equal(415, response.HttpStatus);
    }

    [Fact]
    public async Task AMessageOverTheReceiveLimitIsResourceExhausted()
    {
        using var raw = node.Raw();
        // Field 15, length-delimited: an unknown field the node would otherwise skip, so only the size can refuse it.
        var oversized = new byte[] { 0x7A, 0x81, 0x80, 0x80, 0x02 }.Concat(new byte[Limit + 1]).ToArray();
        var response = await raw.SendAsync(HostileNode.Target, RawGrpc.Frame(oversized));
        Assert.Equal("grpc-status 8", response.Outcome);
        Assert.NotNull(await node.ListQueryTypesAsync());
    }

    /// <summary>A well-formed message (one unknown field of zeros) that inflates from about 64 KB to 64 MiB.</summary>
    static byte[] Bomb(int inflatedMiB)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            // Field 15, length-delimited, inflatedMiB MiB (varint).
            var length = inflatedMiB << 20;
            var header = new List<byte> { 0x7A };
            for (var rest = (uint)length; ; rest >>= 7)
            {
                if (rest < 0x80) { header.Add((byte)rest); break; }
                header.Add((byte)(rest & 0x7F | 0x80));
            }
            gzip.Write(header.ToArray());
            var zeros = new byte[1 << 20];
            for (var i = 0; i < inflatedMiB; i++) gzip.Write(zeros);
        }
        return RawGrpc.Frame(compressed.ToArray(), 1);
    }

    [Fact]
    public async Task AGzipBombIsResourceExhausted()
    {
        using var raw = node.Raw();
        var bomb = Bomb(64);
        Assert.True(bomb.Length < Limit, $"a bomb of {bomb.Length} bytes is no bomb");
        var response = await raw.SendAsync(HostileNode.Target, bomb, [("grpc-encoding", "gzip")]);
        Assert.Equal("grpc-status 8", response.Outcome);
        Assert.NotNull(await node.ListQueryTypesAsync());
    }

    /// <summary>
    /// 1 GiB of zeros in 1 MB of gzip is refused once the limit is inflated, not after all of it:
    /// the whole process (the node runs in it) allocates far less than the bomb's size.
    /// </summary>
    [Fact]
    public async Task AGzipBombIsRefusedWithoutInflatingItAll()
    {
        var bomb = Bomb(1024);
        using var raw = node.Raw();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var response = await raw.SendAsync(HostileNode.Target, bomb, [("grpc-encoding", "gzip")], timeout: TimeSpan.FromSeconds(60));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal("grpc-status 8", response.Outcome);
        output.WriteLine($"gzip bomb of {bomb.Length:N0} bytes (1 GiB inflated): RESOURCE_EXHAUSTED, {allocated >> 20} MiB allocated by the whole test process meanwhile");
        // Other suites run alongside and allocate too; inflating the bomb would allocate 1 GiB or more.
        Assert.True(allocated < 256L << 20, $"{allocated >> 20} MiB allocated while refusing a 1 GiB bomb");
    }

    [Fact]
    public async Task AGzipCompressedRequestUnderTheLimitIsAnswered()
    {
        using var raw = node.Raw();
        var response = await raw.SendAsync(HostileNode.Target, RawGrpc.Frame(Gzip(new ListQueryTypesRequest().ToByteArray()), 1), [("grpc-encoding", "gzip")]);
        Assert.Equal("grpc-status 0", response.Outcome);
    }

    /// <summary>256 MiB of zeros in a quarter megabyte of gzip, sent at once by 8 clients: every one refused.</summary>
    [Fact]
    public async Task ConcurrentGzipBombsAreAllResourceExhausted()
    {
        var bomb = Bomb(256);
        using var raw = node.Raw();
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => raw.SendAsync(HostileNode.Target, bomb, [("grpc-encoding", "gzip")], timeout: TimeSpan.FromSeconds(60))));
        Assert.All(responses, r => Assert.Equal("grpc-status 8", r.Outcome));
        output.WriteLine($"8 concurrent gzip bombs of {bomb.Length:N0} bytes (256 MiB inflated): all RESOURCE_EXHAUSTED");
        Assert.NotNull(await node.ListQueryTypesAsync());
    }

    [Fact]
    public async Task AnUnknownEncodingIsUnimplementedAndNamesWhatIsSupported()
    {
        using var raw = node.Raw();
        var response = await raw.SendAsync(HostileNode.Target, RawGrpc.Frame(Gzip(new ListQueryTypesRequest().ToByteArray()), 1), [("grpc-encoding", "br")]);
        Assert.Equal("grpc-status 12", response.Outcome);
        Assert.Contains("gzip", response.Header("grpc-accept-encoding"));
        Assert.DoesNotContain("br", response.Header("grpc-accept-encoding"));
    }

    [Fact]
    public async Task AnUnknownMethodOrServiceIsUnimplementedTrailersOnly()
    {
        using var raw = node.Raw();
        var method = await raw.SendAsync("/midia.node.v1.SiteAdmin/NoSuchMethod", Valid);
        var service = await raw.SendAsync("/no.such.Service/Call", Valid);
        Assert.True(method.TrailersOnly, method.Outcome);
        Assert.Equal("12", method.GrpcStatus);
        Assert.True(service.TrailersOnly, service.Outcome);
        Assert.Equal("12", service.GrpcStatus);
    }
}
