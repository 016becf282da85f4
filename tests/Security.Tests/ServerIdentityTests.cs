using Midia.Rpc.Client;
using Midia.Rpc.Core;
using Midia.Rpc.Tls;
using Midia.Security.Tests.Support;

namespace Midia.Security.Tests;

/// <summary>
/// The other direction of "a certificate for another site": a client that dials a site's node or
/// the coordinator accepts only a server certificate of that role (and site), so a KVNR or a
/// query never reaches another site's node that answers at the dialled address — every node's dev
/// certificate is valid for 127.0.0.1, so the host name alone cannot tell them apart.
/// </summary>
[Collection(DemoNetworkCollection.Name)]
public sealed class ServerIdentityTests(DemoNetwork network)
{
    [Fact]
    public async Task TheCoordinatorsChannelToASiteRefusesAnotherSitesNode()
    {
        using var tls = TlsMaterial.Load(Cert("coordinator.crt"), Cert("coordinator.key"), Cert("ca.crt"));
        var check = Method<Grpc.Health.V1.HealthCheckRequest, Grpc.Health.V1.HealthCheckResponse>.From(Midia.Rpc.Health.HealthService.Descriptor, "Check");

        // As the fan-out and the consent distributor dial "erlangen" — but munich's node answers there.
        using var wrong = RpcChannel.ForAddress(network.Node("munich"), new RpcChannelOptions { Tls = tls, ServerRole = "node", ServerSite = "erlangen" });
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await wrong.CreateCallInvoker().AsyncUnaryCall(check, new CallOptions(Deadline: DateTime.UtcNow.AddSeconds(60)), new()));
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains("is for site 'munich', not site 'erlangen'", refused.Status.Detail);

        using var right = RpcChannel.ForAddress(network.Node("munich"), new RpcChannelOptions { Tls = tls, ServerRole = "node", ServerSite = "munich" });
        var answer = await right.CreateCallInvoker().AsyncUnaryCall(check, new CallOptions(Deadline: DateTime.UtcNow.AddSeconds(60)), new());
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, answer.Status);
    }

    [Fact]
    public async Task AClinicianNeverSendsAKvnrToAnotherSitesNode()
    {
        var (exit, _, err) = await DemoNetwork.RunAsync("midia", ["summary", "--site", "erlangen", "--kvnr", "A123456780", "--node", network.Node("munich").ToString()],
            network.As("clinician-erlangen"));
        Assert.NotEqual(0, exit);
        Assert.Contains("is for site 'munich', not site 'erlangen'", err);
        Assert.DoesNotContain("A123456780", err);
    }

    [Fact]
    public async Task ACommandForTheCoordinatorRefusesANodeAtItsAddress()
    {
        var environment = new Dictionary<string, string>(network.As("researcher")) { ["MIDIA_COORDINATOR"] = network.Node("erlangen").ToString().TrimEnd('/') };
        var (exit, _, err) = await DemoNetwork.RunAsync("midia", ["sites"], environment);
        Assert.NotEqual(0, exit);
        Assert.Contains("is a node certificate, not a coordinator's", err);
    }

    string Cert(string file) => Path.Combine(network.Certs, file);
}
