using Midia.Interop.Client;

namespace Midia.Interop.Tests;

/// <summary>
/// Our client (grpc-dotnet's generated TestServiceClient over trust/'s NetworkChannel, pinned to the
/// server certificate's role and site) against the grpc-js server. grpc-js never compresses responses, so there the
/// server_compressed cases prove only that our client reads what it gets; the compressed flag of
/// our own server's responses is checked on the wire in <see cref="CompressionOnTheWire"/>.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class OurClientAgainstGrpcJsServer(InteropFixture fixture)
{
    public static TheoryData<string> Cases => new(InteropClient.Cases);

    [Theory, MemberData(nameof(Cases))]
    public async Task PassesTheInteropCase(string interopCase)
    {
        using var tls = fixture.Pki.ClientTls();
        using var channel = InteropChannel.ToLoopback(fixture.GrpcJsServer.Port, tls);
        if (await new InteropClient(channel.Invoker).TryRunAsync(interopCase) is { } failure)
            Assert.Fail($"our client against grpc-js: {failure}");
    }
}

[Collection(InteropCollection.Name)]
public sealed class OurClientAgainstOurServer(InteropFixture fixture)
{
    public static TheoryData<string> Cases => new(InteropClient.Cases);

    [Theory, MemberData(nameof(Cases))]
    public async Task PassesTheInteropCase(string interopCase)
    {
        using var tls = fixture.Pki.ClientTls();
        using var channel = InteropChannel.ToLoopback(fixture.Host.Port, tls);
        if (await new InteropClient(channel.Invoker).TryRunAsync(interopCase) is { } failure)
            Assert.Fail($"our client against our server: {failure}");
    }
}
