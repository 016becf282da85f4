using System.Globalization;
using System.Text.Json;
using Midia.Interop.Peers;

namespace Midia.Interop.Tests;

/// <summary>
/// What a Python grpcio client sees of our hosting (RpcServer, the code every midia server
/// runs): health and reflection with a network certificate; a refusal, before any call, without one.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class StandardServicesForGrpcio(InteropFixture fixture)
{
    [Fact]
    public void AClientWithANetworkCertificateGetsServingAndListsTheServicesByReflection()
    {
        var answer = Ask(["--cert", fixture.Pki.ClientCertPath, "--key", fixture.Pki.ClientKeyPath]);
        Assert.Equal("SERVING", answer.GetProperty("health").GetString());
        var services = answer.GetProperty("services").EnumerateArray().Select(s => s.GetString()).Order(StringComparer.Ordinal);
        Assert.Equal(["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection", "grpc.testing.TestService"], services);
    }

    [Fact]
    public void AClientWithACertificateFromAnotherCaIsRefused()
    {
        var answer = Ask(["--cert", fixture.Pki.StrangerCertPath, "--key", fixture.Pki.StrangerKeyPath]);
        // UNAVAILABLE: the connection never came up; a refusal by a handler would be another code.
        Assert.Equal("UNAVAILABLE", answer.GetProperty("error").GetString());
    }

    [Fact]
    public void AClientWithoutACertificateIsRefused()
    {
        var answer = Ask([]);
        Assert.Equal("UNAVAILABLE", answer.GetProperty("error").GetString());
    }

    JsonElement Ask(string[] identity)
    {
        if (InteropPeers.PythonProblem() is { } problem) Assert.Fail(problem);
        var run = PeerProcess.Run(InteropPeers.Python,
            ["health_reflection.py", "--host", "127.0.0.1", "--port", fixture.Host.Port.ToString(CultureInfo.InvariantCulture),
             "--ca", fixture.Pki.CaPath, "--server-name", Pki.ThrowAwayPki.ServerName, .. identity],
            InteropPeers.PythonDirectory, TimeSpan.FromMinutes(1));
        var line = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        if (line is null || !line.StartsWith('{')) Assert.Fail($"health_reflection.py printed no answer: {run}");
        return JsonDocument.Parse(line).RootElement.Clone();
    }
}
