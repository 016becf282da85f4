using System.IO.Compression;
using Google.Protobuf;
using Grpc.Testing;

namespace Midia.Interop.Tests;

/// <summary>
/// The server_compressed cases ask for a compressed flag that grpcio, grpc-js and our client do
/// not expose; here it is read off the raw HTTP/2 response, and the gzip is inflated by .NET's own
/// GZipStream.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class CompressionOnTheWire(InteropFixture fixture)
{
    [Fact]
    public async Task OurServerCompressesAUnaryResponseExactlyWhenAsked()
    {
        using var raw = new RawGrpc(fixture.Pki);
        foreach (var compressed in new[] { true, false })
        {
            var response = await raw.CallAsync(fixture.Host.Port, "/grpc.testing.TestService/UnaryCall",
                new SimpleRequest { ResponseCompressed = new BoolValue { Value = compressed }, ResponseSize = 314159 });
            Assert.Equal("0", response.Trailer("grpc-status") ?? response.Header("grpc-status"));
            var frame = Assert.Single(response.Frames);
            Assert.True(compressed == frame.Compressed, $"compressed flag {frame.Compressed}, grpc-encoding {response.Header("grpc-encoding")}, frame {frame.Bytes.Length} bytes");
            if (compressed) Assert.Equal("gzip", response.Header("grpc-encoding"));
            var message = SimpleResponse.Parser.ParseFrom(frame.Compressed ? Gunzip(frame.Bytes) : frame.Bytes);
            Assert.Equal(new byte[314159], message.Payload.Body.ToByteArray());
        }
    }

    [Fact]
    public async Task OurServerCompressesEachStreamedResponseAsItsParametersAsk()
    {
        using var raw = new RawGrpc(fixture.Pki);
        var request = new StreamingOutputCallRequest();
        request.ResponseParameters.Add(new ResponseParameters { Size = 31415, Compressed = new BoolValue { Value = true } });
        request.ResponseParameters.Add(new ResponseParameters { Size = 92653, Compressed = new BoolValue { Value = false } });
        var response = await raw.CallAsync(fixture.Host.Port, "/grpc.testing.TestService/StreamingOutputCall", request);
        Assert.Equal("0", response.Trailer("grpc-status"));
        Assert.Equal([true, false], response.Frames.Select(f => f.Compressed));
        Assert.Equal(31415, StreamingOutputCallResponse.Parser.ParseFrom(Gunzip(response.Frames[0].Bytes)).Payload.Body.Length);
        Assert.Equal(92653, StreamingOutputCallResponse.Parser.ParseFrom(response.Frames[1].Bytes).Payload.Body.Length);
    }

    // grpc.io compression guide: a message the server is asked to compress with an algorithm the
    // client's grpc-accept-encoding does not list goes uncompressed.
    [Fact]
    public async Task OurServerDoesNotCompressForAClientThatOnlyAcceptsIdentity()
    {
        using var raw = new RawGrpc(fixture.Pki);
        var response = await raw.CallAsync(fixture.Host.Port, "/grpc.testing.TestService/UnaryCall",
            new SimpleRequest { ResponseCompressed = new BoolValue { Value = true }, ResponseSize = 1000 }, acceptEncoding: "identity");
        Assert.Equal("0", response.Trailer("grpc-status"));
        Assert.False(Assert.Single(response.Frames).Compressed);
    }

    static byte[] Gunzip(byte[] bytes)
    {
        using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var output = new MemoryStream();
        gzip.CopyTo(output);
        return output.ToArray();
    }
}
