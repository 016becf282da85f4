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

/// <summary>
/// The two reference stacks against each other, without any of our code: a case that fails here
/// is a driver bug, not a finding about our server.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class GrpcioClientAgainstGrpcJsServer(InteropFixture fixture)
{
    public static TheoryData<string> Cases => new(InteropClient.Cases);

    [Theory, MemberData(nameof(Cases))]
    public void PassesTheInteropCase(string interopCase)
    {
        if (fixture.PythonAgainstGrpcJs.Failure(interopCase) is { } failure) Assert.Fail($"grpcio (Python) against grpc-js: {failure}");
    }
}
