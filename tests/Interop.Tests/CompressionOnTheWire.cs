using System.IO.Compression;
using Google.Protobuf;
using Grpc.Testing;
using Midia.Interop.Tests.Hostile;

namespace Midia.Interop.Tests;

/// <summary>
/// The server_compressed cases ask for a compressed flag that grpcio, grpc-js and grpc-dotnet's
/// client do not expose; here it is read off the raw HTTP/2 response of our server (grpc-dotnet
/// on trust/'s network server), and the gzip is inflated by .NET's own GZipStream.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class CompressionOnTheWire(InteropFixture fixture) : IDisposable
{
    readonly Midia.Trust.TlsMaterial clientTls = fixture.Pki.ClientTls();

    public void Dispose() => clientTls.Dispose();

    RawGrpc Raw() => new(fixture.Host.Address, clientTls);

    [Fact]
    public async Task OurServerCompressesAUnaryResponseExactlyWhenAsked()
    {
        using var raw = Raw();
        foreach (var compressed in new[] { true, false })
        {
            var response = await raw.CallAsync("/grpc.testing.TestService/UnaryCall",
                new SimpleRequest { ResponseCompressed = new BoolValue { Value = compressed }, ResponseSize = 314159 });
            Assert.Equal("0", response.GrpcStatus);
            var message = Assert.Single(response.Messages);
            Assert.True(compressed == message.Compressed, $"compressed flag {message.Compressed}, grpc-encoding {response.Header("grpc-encoding")}, message {message.Bytes.Length} bytes");
            if (compressed) Assert.Equal("gzip", response.Header("grpc-encoding"));
            var parsed = SimpleResponse.Parser.ParseFrom(message.Compressed ? Gunzip(message.Bytes) : message.Bytes);
            Assert.Equal(new byte[314159], parsed.Payload.Body.ToByteArray());
        }
    }

    [Fact]
    public async Task OurServerCompressesEachStreamedResponseAsItsParametersAsk()
    {
        using var raw = Raw();
        var request = new StreamingOutputCallRequest();
        request.ResponseParameters.Add(new ResponseParameters { Size = 31415, Compressed = new BoolValue { Value = true } });
        request.ResponseParameters.Add(new ResponseParameters { Size = 92653, Compressed = new BoolValue { Value = false } });
        var response = await raw.CallAsync("/grpc.testing.TestService/StreamingOutputCall", request);
        Assert.Equal("0", response.GrpcStatus);
        Assert.Equal([true, false], response.Messages.Select(f => f.Compressed));
        Assert.Equal(31415, StreamingOutputCallResponse.Parser.ParseFrom(Gunzip(response.Messages[0].Bytes)).Payload.Body.Length);
        Assert.Equal(92653, StreamingOutputCallResponse.Parser.ParseFrom(response.Messages[1].Bytes).Payload.Body.Length);
    }

    // grpc.io compression guide: a message the server is asked to compress with an algorithm the
    // client's grpc-accept-encoding does not list goes uncompressed.
    [Fact]
    public async Task OurServerDoesNotCompressForAClientThatOnlyAcceptsIdentity()
    {
        using var raw = Raw();
        var response = await raw.CallAsync("/grpc.testing.TestService/UnaryCall",
            new SimpleRequest { ResponseCompressed = new BoolValue { Value = true }, ResponseSize = 1000 }, acceptEncoding: "identity");
        Assert.Equal("0", response.GrpcStatus);
        Assert.False(Assert.Single(response.Messages).Compressed);
    }

    static byte[] Gunzip(byte[] bytes)
    {
        using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var output = new MemoryStream();
        gzip.CopyTo(output);
        return output.ToArray();
    }
}
