using Midia.Interop.Client;

namespace Midia.Interop.Tests;

[Collection(InteropCollection.Name)]
public sealed class GrpcioClientAgainstOurServer(InteropFixture fixture)
{
    public static TheoryData<string> Cases => new(InteropClient.Cases);

    [Theory, MemberData(nameof(Cases))]
    public void PassesTheInteropCase(string interopCase)
    {
        if (fixture.Python.Failure(interopCase) is { } failure) Assert.Fail($"grpcio (Python) against our server: {failure}");
    }
}

[Collection(InteropCollection.Name)]
public sealed class GrpcJsClientAgainstOurServer(InteropFixture fixture)
{
    public static TheoryData<string> Cases => new(InteropClient.Cases);

    [Theory, MemberData(nameof(Cases))]
    public void PassesTheInteropCase(string interopCase)
    {
        if (fixture.Node.Failure(interopCase) is { } failure) Assert.Fail($"grpc-js (Node) against our server: {failure}");
    }
}
