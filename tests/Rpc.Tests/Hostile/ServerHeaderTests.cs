using System.IO.Compression;
using Google.Protobuf;
using Midia.Rpc.Tests.Proto;
using Midia.Rpc.Tests.Support;
using Xunit.Abstractions;

namespace Midia.Rpc.Tests.Hostile;

/// <summary>
/// Malformed headers and bodies against the real Kestrel server over mutual TLS, one row each:
/// the exact gRPC status (or HTTP status) every one must get, and the server answers normally after.
/// </summary>
[Collection(NetworkCollection.Name)]
public sealed class ServerHeaderTests(TestNetwork network, ITestOutputHelper output)
{
    const string Unary = "/midia.rpc.test.Echo/Unary";

    static byte[] Gzip(byte[] data)
    {
        using var stream = new MemoryStream();
        using (var gzip = new GZipStream(stream, CompressionLevel.Optimal)) gzip.Write(data);
        return stream.ToArray();
    }

    static readonly byte[] Valid = RawGrpc.Frame(new EchoRequest { Text = "hostile" });

    /// <summary>What a row sends and what it must get: a grpc-status, or an HTTP status for non-gRPC requests.</summary>
    sealed record Row(string Case, (string, string)[] Headers, byte[] Body, string Expected, string ContentType = "application/grpc", string? Te = "trailers");

    static IEnumerable<Row> Rows()
    {
        foreach (var timeout in new[] { "1", "S", "123456789S", "-1S", "1.5S", "1s", "1 S", "0x10S", "1SS", "99999999H1" })
            yield return new($"grpc-timeout '{timeout}'", [("grpc-timeout", timeout)], Valid, "grpc-status 13");
        foreach (var contentType in new[] { "application/json", "application/grpc-web", "application/grpcx", "text/plain; application/grpc", "application/grpc+json" })
            yield return new($"content-type '{contentType}'", [], Valid, "HTTP 415", contentType);
        foreach (var value in new[] { "!!!!", "A", "AAAAA", "AA=A", "%%%%" })
            yield return new($"x-data-bin '{value}'", [("x-data-bin", value)], Valid, "grpc-status 13");
        foreach (var encoding in new[] { "br", "deflate", "gzip, br", "x-unknown" })
            yield return new($"grpc-encoding '{encoding}' on a compressed message", [("grpc-encoding", encoding)], RawGrpc.Frame(Gzip(new EchoRequest().ToByteArray()), 1), "grpc-status 12");
        // te is the proxy-compatibility check of the spec; like grpc-dotnet, a missing or odd te is tolerated.
        foreach (var te in new[] { null, "gzip", "trailers, deflate" })
            yield return new($"te '{te ?? "(none)"}'", [], Valid, "grpc-status 0", Te: te);
        yield return new("compressed flag without grpc-encoding", [], RawGrpc.Frame(Gzip(new EchoRequest().ToByteArray()), 1), "grpc-status 13");
        yield return new("declared length 4 GiB - 1", [], RawGrpc.Frame(new byte[16], 0, uint.MaxValue), "grpc-status 8");
        yield return new("declared length one over the limit", [], RawGrpc.Frame(new byte[16], 0, 4 * 1024 * 1024 + 1), "grpc-status 8");
        yield return new("length prefix beyond the body", [], RawGrpc.Frame(new byte[16], 0, 1000), "grpc-status 13");
        yield return new("four bytes of a header", [], [0, 0, 0, 0], "grpc-status 13");
        yield return new("compressed flag 2", [], RawGrpc.Frame(new EchoRequest(), 2), "grpc-status 13");
        yield return new("corrupt gzip", [("grpc-encoding", "gzip")], RawGrpc.Frame([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7], 1), "grpc-status 13");
        yield return new("protobuf garbage", [], RawGrpc.Frame([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]), "grpc-status 13");
    }

    [Fact]
    public async Task EveryMalformedHeaderOrBodyGetsItsStatusAndTheServerKeepsServing()
    {
        using var raw = new RawGrpc(network);
        var rows = Rows().ToList();
        var failures = new List<string>();
        foreach (var row in rows)
        {
            var response = await raw.SendAsync(Unary, row.Body, row.Headers, row.ContentType, TimeSpan.FromSeconds(30), row.Te);
            var outcome = response.HttpStatus != 200 ? $"HTTP {response.HttpStatus}" : $"grpc-status {response.GrpcStatus}";
            output.WriteLine($"{row.Case}: {outcome} {response.GrpcMessage}");
            if (outcome != row.Expected) failures.Add($"{row.Case}: expected {row.Expected}, got {outcome} ({response.GrpcMessage})");
        }
        Assert.Empty(failures);

        using var channel = network.Channel();
        Assert.Equal("still here", (await channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, new(), new EchoRequest { Text = "still here" })).Text);
    }

    /// <summary>256 MiB of zeros in a quarter megabyte of gzip, sent at once by 8 clients: every one refused.</summary>
    [Fact]
    public async Task ConcurrentGzipBombsAreAllResourceExhausted()
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            // Field 2 (payload), length-delimited, 256 MiB: a well-formed message once inflated.
            gzip.Write([0x12, 0x80, 0x80, 0x80, 0x80, 0x01]);
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 256; i++) gzip.Write(zeros);
        }
        var body = RawGrpc.Frame(compressed.ToArray(), 1);
        using var raw = new RawGrpc(network);
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => raw.SendAsync(Unary, body, [("grpc-encoding", "gzip")], timeout: TimeSpan.FromSeconds(60))));
        Assert.All(responses, r => Assert.Equal("8", r.GrpcStatus));
        output.WriteLine($"8 concurrent gzip bombs of {body.Length:N0} bytes (256 MiB inflated): all RESOURCE_EXHAUSTED");
    }
}
