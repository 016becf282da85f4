using System.Net;
using System.Text.Json;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.Logging;
using Midia.Coordinator.Serve;
using Midia.Protos.Coordinator.V1;
using Midia.Security.Tests.Support;
using Midia.Trust;

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

        // As the fan-out and the consent distributor dial "erlangen" — but munich's node answers there.
        using var wrong = NetworkChannel.Open(network.Node("munich"), tls, new ServerPin("node", "erlangen"));
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await new Health.HealthClient(wrong.Invoker).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(60)));
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains("is for site 'munich', not site 'erlangen'", refused.Status.Detail);

        using var right = NetworkChannel.Open(network.Node("munich"), tls, new ServerPin("node", "munich"));
        var answer = await new Health.HealthClient(right.Invoker).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(60));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, answer.Status);
    }

    [Fact]
    public async Task ACoordinatorWhoseRegistryPointsASiteAtAnotherSitesNodeReportsThatSiteUnavailable()
    {
        // A second, in-process coordinator (as `serve` runs it) whose sites file sends erlangen's
        // questions to munich's node: the fan-out refuses munich's certificate for erlangen.
        var folder = Directory.CreateTempSubdirectory("midia-misrouted-").FullName;
        try
        {
            var sites = Path.Combine(folder, "sites.json");
            File.WriteAllText(sites, JsonSerializer.Serialize(new[]
            {
                new { id = "erlangen", address = network.Node("munich").ToString() },
                new { id = "munich", address = network.Node("munich").ToString() },
            }));
            using var tls = TlsMaterial.Load(Cert("coordinator.crt"), Cert("coordinator.key"), Cert("ca.crt"));
            await using var coordinator = CoordinatorServer.Create(new CoordinatorSettings(new IPEndPoint(IPAddress.Loopback, 0), tls, Path.Combine(folder, "coordinator.db"), sites),
                builder => builder.Logging.ClearProviders());
            var address = await coordinator.StartNetworkServerAsync();

            using var researcher = TlsMaterial.Load(Cert("researcher.crt"), Cert("researcher.key"), Cert("ca.crt"));
            using var channel = NetworkChannel.Open(address, researcher, new ServerPin("coordinator"));
            var ccdl = File.ReadAllText(Path.Combine(DemoNetwork.Repository(), "examples", "her2-breast-cancer-trastuzumab.json"));
            using var call = new Research.ResearchClient(channel.Invoker).Count(new CountRequest { CcdlJson = ccdl }, deadline: DateTime.UtcNow.AddMinutes(2));
            var results = new Dictionary<string, SiteResult>();
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
                if (call.ResponseStream.Current.Site is { } site) results[site.Site] = site;

            Assert.Equal(SiteStatus.Ok, results["munich"].Status);
            Assert.Equal(SiteStatus.Unavailable, results["erlangen"].Status);
            Assert.Contains("is for site 'munich', not site 'erlangen'", results["erlangen"].Message);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
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

    [Fact]
    public async Task APortalTalksOnlyToTheCoordinatorAndItsOwnSitesNode()
    {
        using var tls = TlsMaterial.Load(Cert("portal-erlangen.crt"), Cert("portal-erlangen.key"), Cert("ca.crt"));
        var clinician = Midia.Portal.SignIn.PortalUser.Create("clinician-erlangen", "Dr. Clinician (erlangen)", "clinician", "erlangen", null, Midia.Portal.SignIn.PortalUser.ByPassword);
        var byKvnr = new Midia.Protos.Node.V1.ResolvePatientRequest { Kvnr = "A123456780" };
        var asClinician = Midia.Portal.Network.PortalNetwork.For(clinician, CancellationToken.None);

        // Erlangen's portal misconfigured: its node address answers as munich's node, its coordinator address as erlangen's node.
        using (var wrong = new Midia.Portal.Network.PortalNetwork(network.Node("erlangen"), network.Node("munich"), tls, "erlangen"))
        {
            var node = await Assert.ThrowsAsync<RpcException>(async () => await wrong.PatientCare.ResolvePatientAsync(byKvnr, asClinician));
            Assert.Equal(StatusCode.Unavailable, node.StatusCode);
            Assert.Contains("is for site 'munich', not site 'erlangen'", node.Status.Detail);
            Assert.DoesNotContain("A123456780", node.Status.Detail);
            var coordinator = await Assert.ThrowsAsync<RpcException>(async () => await wrong.Research.SitesAsync(new SitesRequest(), asClinician));
            Assert.Equal(StatusCode.Unavailable, coordinator.StatusCode);
            Assert.Contains("is a node certificate, not a coordinator's", coordinator.Status.Detail);
        }

        // Rightly configured, the same calls go through (an unknown local id is the node's own NOT_FOUND).
        using var right = new Midia.Portal.Network.PortalNetwork(network.Coordinator, network.Node("erlangen"), tls, "erlangen");
        var sites = await right.Research.SitesAsync(new SitesRequest(), asClinician);
        Assert.Equal(DemoNetwork.Sites.Order(), sites.Sites.Select(s => s.Id).Order());
        var unknown = await Assert.ThrowsAsync<RpcException>(async () => await right.PatientCare.ResolvePatientAsync(new() { LocalId = "no-such-patient" }, asClinician));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    string Cert(string file) => Path.Combine(network.Certs, file);
}
