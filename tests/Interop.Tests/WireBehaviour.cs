using System.Text;
using Grpc.Testing;
using Midia.Interop.Server;
using Midia.Interop.Tests.Hostile;
using Midia.Trust;

namespace Midia.Interop.Tests;

/// <summary>
/// What our network server puts on the wire where no client stack shows it, read off raw HTTP/2
/// responses of the TestService: trailers-only errors, percent-encoded status messages, -bin
/// metadata padded or not, a deadline from grpc-timeout.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class WireBehaviour(InteropFixture fixture) : IDisposable
{
    const string UnaryCall = "/grpc.testing.TestService/UnaryCall";
    readonly TlsMaterial clientTls = fixture.Pki.ClientTls();

    public void Dispose() => clientTls.Dispose();

    RawGrpc Raw() => new(fixture.Host.Address, clientTls);

    [Fact]
    public async Task ASuccessfulUnaryCallHasHeadersOneMessageAndGrpcStatusZeroInTrailers()
    {
        using var raw = Raw();
        var response = await raw.CallAsync(UnaryCall, new SimpleRequest { ResponseSize = 10 });
        Assert.Equal(200, response.HttpStatus);
        Assert.Equal("application/grpc", response.Header("content-type"));
        Assert.Equal("0", response.Trailers["grpc-status"]);
        Assert.False(response.Headers.ContainsKey("grpc-status"));
        Assert.Equal(10, SimpleResponse.Parser.ParseFrom(Assert.Single(response.Messages).Bytes).Payload.Body.Length);
    }

    [Fact]
    public async Task AnImmediateErrorIsATrailersOnlyResponse()
    {
        using var raw = Raw();
        var response = await raw.CallAsync(UnaryCall, new SimpleRequest { ResponseStatus = new EchoStatus { Code = 5, Message = "nope" } });
        Assert.True(response.TrailersOnly);
        Assert.Equal("5", response.Headers["grpc-status"]);
        Assert.Equal("nope", response.Headers["grpc-message"]);
    }

    [Fact]
    public async Task StatusMessagesArePercentEncodedUtf8OnTheWire()
    {
        using var raw = Raw();
        var message = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n";
        var response = await raw.CallAsync(UnaryCall, new SimpleRequest { ResponseStatus = new EchoStatus { Code = 2, Message = message } });
        // Expected independently: printable ASCII except '%' stays, every other UTF-8 byte is %XX.
        var expected = string.Concat(Encoding.UTF8.GetBytes(message).Select(b => b is >= 0x20 and <= 0x7E and not (byte)'%' ? ((char)b).ToString() : $"%{b:X2}"));
        Assert.Equal(expected, response.GrpcMessage);
    }

    [Fact]
    public async Task BinaryMetadataIsAcceptedPaddedAndUnpadded()
    {
        using var raw = Raw();
        byte[] bytes = [0, 1, 2, 250, 251]; // base64 "AAEC+vs=" needs padding
        foreach (var value in new[] { "AAEC+vs=", "AAEC+vs" })
        {
            var response = await raw.SendAsync(UnaryCall, RawGrpc.Frame(new SimpleRequest()), [(InteropTestService.EchoTrailingKey, value)]);
            Assert.Equal("grpc-status 0", response.Outcome);
            Assert.Equal(bytes, Convert.FromBase64String(response.Trailers[InteropTestService.EchoTrailingKey].PadRight(8, '=')));
        }
    }

    [Fact]
    public async Task GrpcTimeoutEndsASleepingHandlerWithDeadlineExceeded()
    {
        using var raw = Raw();
        // FullDuplexCall with one request asking for a response after 60 s: the 200 ms deadline ends it first.
        var request = new StreamingOutputCallRequest();
        request.ResponseParameters.Add(new ResponseParameters { Size = 1, IntervalUs = 60_000_000 });
        var response = await raw.SendAsync("/grpc.testing.TestService/FullDuplexCall", RawGrpc.Frame(request), [("grpc-timeout", "200m")]);
        Assert.Equal("4", response.GrpcStatus);
        Assert.Empty(response.Messages);
    }
}
