using Midia.Coordinator.Quota;
using Midia.Coordinator.Tests.Support;
using Midia.Protos.Coordinator.V1;
using Grpc.Core;

namespace Midia.Coordinator.Tests;

/// <summary>Who may ask, how often, what is remembered, and the registry following its file — over the real server.</summary>
public sealed class ResearchTests
{
    static async Task<TestNetwork> TwoSites(QuotaOptions? quota = null)
    {
        var network = quota is null ? new TestNetwork() : new TestNetwork { Quota = quota };
        (await network.AddNodeAsync("erlangen")).Behaviour = (_, _) => Task.FromResult(ScriptedNode.Released(60));
        (await network.AddNodeAsync("munich")).Behaviour = (_, _) => Task.FromResult(ScriptedNode.Released(80));
        await network.StartCoordinatorAsync();
        return network;
    }

    [Fact]
    public async Task ExceedingTheQuotaIsResourceExhaustedWithTheLimitAndWhenItFreesUp()
    {
        await using var network = await TwoSites(new QuotaOptions { PerMinute = 2, Per7Days = 50 });
        var researcher = network.Client();
        await researcher.CountAsync(TestNetwork.Query(1));
        await researcher.CountAsync(TestNetwork.Query(2));

        var refused = await Assert.ThrowsAsync<RpcException>(() => researcher.CountAsync(TestNetwork.Query(3)));

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("2 queries per minute", refused.Status.Detail);
        Assert.Contains("the next query is possible at", refused.Status.Detail);
        Assert.Equal(2, network.Node("erlangen").Calls);
        var quota = await researcher.QuotaAsync();
        var minute = quota.Windows.Single(w => w.Name == "per minute");
        Assert.Equal((2, 2), (minute.Limit, minute.Used));
        Assert.Equal((50, 2), (quota.Windows.Single(w => w.Name == "per 7 days").Limit, quota.Windows.Single(w => w.Name == "per 7 days").Used));
        // Quotas are per researcher: a colleague still may ask.
        var colleague = network.Client(name: "Dr Colleague");
        Assert.Equal(140, (await colleague.CountAsync(TestNetwork.Query(3))).Total().Value);
    }

    [Fact]
    public async Task AnIdenticalQueryIsAnsweredFromHistoryWithoutAskingTheSitesOrUsingQuota()
    {
        await using var network = await TwoSites();
        var researcher = network.Client();
        await researcher.RegisterProjectAsync("p1");
        await researcher.RegisterProjectAsync("p2");

        var first = await researcher.CountAsync(TestNetwork.Query(), "p1");
        var second = await researcher.CountAsync(TestNetwork.Query(), "p1");
        var otherProject = await researcher.CountAsync(TestNetwork.Query(), "p2");

        Assert.False(first.Started().FromHistory);
        Assert.True(second.Started().FromHistory);
        Assert.Equal(first.Started().QueryId, second.Started().QueryId);
        Assert.Equal(first.Total(), second.Total());
        Assert.False(otherProject.Started().FromHistory);
        Assert.Equal(2, network.Node("erlangen").Calls);
        var quota = await researcher.QuotaAsync();
        Assert.Equal(2, quota.Windows.Single(w => w.Name == "per minute").Used);
        var history = await researcher.HistoryAsync();
        Assert.Equal(2, history.Entries.Count);
        var stored = history.Entries.Single(e => e.QueryId == first.Started().QueryId);
        Assert.Equal(1, stored.Replays);
        Assert.Equal("p1", stored.Project);
        Assert.Equal(140, stored.Total.Value);
        Assert.Equal(["erlangen", "munich"], stored.Sites.Select(s => s.Site).Order());
    }

    [Fact]
    public async Task AResultWithATimedOutSiteIsNotReplayedButAskedAgain()
    {
        await using var network = await TwoSites();
        network.Node("munich").Behaviour = (_, _) => throw new RpcException(new Status(StatusCode.Unavailable, "down for maintenance"));
        var researcher = network.Client();
        await researcher.CountAsync(TestNetwork.Query());
        network.Node("munich").Behaviour = (_, _) => Task.FromResult(ScriptedNode.Released(80));

        var again = await researcher.CountAsync(TestNetwork.Query());

        Assert.False(again.Started().FromHistory);
        Assert.Equal(140, again.Total().Value);
    }

    [Fact]
    public async Task OnlyResearchersMayCountButEveryUserRoleMaySeeTheSites()
    {
        await using var network = await TwoSites();

        var clinician = network.Client("clinician", "Dr Clinician");
        var denied = await Assert.ThrowsAsync<RpcException>(() => clinician.CountAsync(TestNetwork.Query()));
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains("researcher", denied.Status.Detail);
        Assert.Equal(0, network.Node("erlangen").Calls);
        Assert.Equal(2, (await clinician.SitesAsync()).Sites.Count);

        var node = network.Client("node", "node-erlangen");
        Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(() => node.SitesAsync())).StatusCode);
    }

    [Fact]
    public async Task AQueryThatIsNotJsonIsRefusedBeforeAnySiteIsAsked()
    {
        await using var network = await TwoSites();

        var refused = await Assert.ThrowsAsync<RpcException>(() => network.Client().CountAsync("{\"inclusionCriteria\": ["));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.StartsWith("query:1:", refused.Status.Detail);
        Assert.Equal(0, network.Node("erlangen").Calls);
    }

    [Fact]
    public async Task TheRegistryFollowsEditsOfTheSitesFileAndKeepsTheLastGoodOneOnABrokenEdit()
    {
        await using var network = await TwoSites();
        var practice = await network.AddNodeAsync("practice");
        practice.Behaviour = (_, _) => Task.FromResult(ScriptedNode.Released(20));
        var researcher = network.Client();

        network.WriteSites(network.Nodes.Select(n => (n.Site, n.Address)));
        await Eventually(async () => (await researcher.SitesAsync()).Sites.Count == 3);
        var events = await researcher.CountAsync(TestNetwork.Query());
        Assert.Equal(160, events.Total().Value);

        File.WriteAllText(network.SitesFile, "[{\"id\": \"erlangen\", \"address\": ");
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(["erlangen", "munich", "practice"], (await researcher.SitesAsync()).Sites.Select(s => s.Id));

        network.WriteSites([("practice", practice.Address)]);
        await Eventually(async () => (await researcher.SitesAsync()).Sites.Count == 1);
        Assert.Equal(20, (await researcher.CountAsync(TestNetwork.Query(2))).Total().Value);
    }

    static async Task Eventually(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await condition()) return;
            await Task.Delay(100);
        }
        Assert.Fail("the condition did not become true within 10 s");
    }
}
