using System.Diagnostics;
using Midia.Coordinator.FanOut;
using Midia.Coordinator.Tests.Support;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Grpc.Core;

namespace Midia.Coordinator.Tests;

/// <summary>End to end: the real coordinator and three scripted nodes on loopback, mutual TLS on every hop.</summary>
public sealed class FanOutTests
{
    static async Task<TestNetwork> ThreeSites(FanOutOptions? fanOut = null)
    {
        var network = fanOut is null ? new TestNetwork() : new TestNetwork { FanOut = fanOut };
        (await network.AddNodeAsync("erlangen")).Behaviour = (_, _) => Task.FromResult(ScriptedNode.Released(60));
        (await network.AddNodeAsync("munich")).Behaviour = (_, _) => Task.FromResult(ScriptedNode.Released(80));
        (await network.AddNodeAsync("practice")).Behaviour = (_, _) => Task.FromResult(ScriptedNode.Released(20));
        return network;
    }

    [Fact]
    public async Task AllSitesOkGiveTheSumOfTheirReleasedCountsMarkedObfuscated()
    {
        await using var network = await ThreeSites();
        await network.StartCoordinatorAsync();

        var researcher = network.Client();
        await researcher.RegisterProjectAsync("her2-study");
        var events = await researcher.CountAsync(TestNetwork.Query(), "her2-study");

        Assert.Equal(["erlangen", "munich", "practice"], events.Started().Sites);
        Assert.Equal(5, events.Count);
        foreach (var site in new[] { "erlangen", "munich", "practice" }) Assert.Equal(SiteStatus.Ok, events.Site(site).Status);
        var total = events.Total();
        Assert.Equal(60 + 80 + 20, total.Value);
        Assert.True(total.Obfuscated);
        Assert.False(total.BelowThreshold);
        Assert.Contains("sum of 3 sites' obfuscated counts", total.Explanation);
        Assert.Contains("counted once per site", total.Explanation);
        // The node is told who asks and for which project, and gets the coordinator's query id.
        var asked = network.Node("munich").LastRequest!;
        Assert.Equal(("Dr Test Researcher", "researcher", "her2-study"), (asked.User.Name, asked.User.Role, asked.User.Project));
        Assert.Equal(events.Started().QueryId, asked.QueryId);
    }

    [Fact]
    public async Task ASiteBelowItsThresholdContributesNothingAndTheTotalSaysSo()
    {
        await using var network = await ThreeSites();
        network.Node("practice").Behaviour = (_, _) => Task.FromResult(ScriptedNode.BelowThreshold());
        await network.StartCoordinatorAsync();

        var events = await network.Client().CountAsync(TestNetwork.Query());

        Assert.Equal(SiteStatus.Ok, events.Site("practice").Status);
        Assert.False(events.Site("practice").Count.HasValue);
        Assert.Equal(140, events.Total().Value);
        Assert.Equal(1, events.Total().SitesBelowThreshold);
        Assert.Contains("practice", events.Total().Explanation);
    }

    [Fact]
    public async Task ANodeKilledMidQueryLeavesTheOtherTwoOkAndTheAnswerComesWithinTheDeadline()
    {
        await using var network = await ThreeSites();
        var asked = new TaskCompletionSource();
        network.Node("munich").Behaviour = async (_, context) =>
        {
            asked.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
            return ScriptedNode.Released(80);
        };
        await network.StartCoordinatorAsync();

        var clock = Stopwatch.StartNew();
        var counting = network.Client().CountAsync(TestNetwork.Query());
        await asked.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await network.Node("munich").KillAsync();
        var events = await counting;
        clock.Stop();

        Assert.Equal(SiteStatus.Ok, events.Site("erlangen").Status);
        Assert.Equal(SiteStatus.Ok, events.Site("practice").Status);
        Assert.Contains(events.Site("munich").Status, new[] { SiteStatus.Unavailable, SiteStatus.Timeout });
        Assert.NotEmpty(events.Site("munich").Message);
        Assert.Equal(80, events.Total().Value);
        Assert.Equal(1, events.Total().SitesMissing);
        Assert.True(clock.Elapsed < 2 * network.FanOut.Deadline, $"answered after {clock.Elapsed}, deadline {network.FanOut.Deadline}");
    }

    [Fact]
    public async Task AHangingNodeTimesOutWithAMessageNamingTheDeadlineWhileTheOthersAnswer()
    {
        var deadline = TimeSpan.FromSeconds(2);
        await using var network = await ThreeSites(new FanOutOptions { Deadline = deadline });
        network.Node("munich").Behaviour = async (_, context) =>
        {
            await Task.Delay(TimeSpan.FromMinutes(5), context.CancellationToken);
            return ScriptedNode.Released(80);
        };
        await network.StartCoordinatorAsync();

        var clock = Stopwatch.StartNew();
        var events = await network.Client().CountAsync(TestNetwork.Query());
        clock.Stop();

        Assert.Equal(SiteStatus.Timeout, events.Site("munich").Status);
        Assert.Equal("no answer within 2 s", events.Site("munich").Message);
        Assert.Equal(80, events.Total().Value);
        // The two live sites answered first: the dead one never holds them back.
        Assert.Equal("munich", events[3].Site.Site);
        Assert.True(clock.Elapsed < 2 * deadline, $"answered after {clock.Elapsed} with a {deadline} deadline");
    }

    [Fact]
    public async Task ANodeThatHasNotApprovedTheQueryTypeIsReportedNotApprovedWithTheType()
    {
        await using var network = await ThreeSites();
        network.Node("practice").Behaviour = (_, _) =>
            throw new RpcException(new Status(StatusCode.PermissionDenied, "cohort-count is not approved at this site"), new Metadata { { "midia-site-status", "not_approved" } });
        await network.StartCoordinatorAsync();

        var events = await network.Client().CountAsync(TestNetwork.Query());

        Assert.Equal(SiteStatus.NotApproved, events.Site("practice").Status);
        Assert.Equal("query type cohort-count not approved by the site admin", events.Site("practice").Message);
        Assert.Equal(140, events.Total().Value);
    }

    [Fact]
    public async Task ANodeRefusingTheQueryIsReportedRefusedWithTheNodesMessage()
    {
        await using var network = await ThreeSites();
        network.Node("erlangen").Behaviour = (_, _) =>
            throw new RpcException(new Status(StatusCode.InvalidArgument, "erlangen: $.inclusionCriteria[0][0].termCodes[0].system: unknown code system 'urn:foo'"));
        await network.StartCoordinatorAsync();

        var events = await network.Client().CountAsync(TestNetwork.Query());

        Assert.Equal(SiteStatus.Refused, events.Site("erlangen").Status);
        Assert.Equal("$.inclusionCriteria[0][0].termCodes[0].system: unknown code system 'urn:foo'", events.Site("erlangen").Message);
        Assert.Equal(1, network.Node("erlangen").Calls);
    }

    [Fact]
    public async Task ASiteWhoseCertificateIsFromAnotherCaIsUnavailableAndTheMessageSaysSo()
    {
        await using var network = await ThreeSites();
        using var foreign = Midia.CertsDev.DevCertificates.CreateAuthority("Some Other CA");
        var impostor = await network.AddNodeAsync("impostor", foreign);
        impostor.Behaviour = (_, _) => Task.FromResult(ScriptedNode.Released(1000));
        await network.StartCoordinatorAsync();

        var events = await network.Client().CountAsync(TestNetwork.Query());

        var result = events.Site("impostor");
        Assert.Equal(SiteStatus.Unavailable, result.Status);
        Assert.Contains("not issued by the network CA", result.Message);
        Assert.Equal(0, impostor.Calls);
        Assert.Equal(160, events.Total().Value);
    }

    [Fact]
    public async Task RetriesHappenOnlyAfterUnavailable()
    {
        await using var network = await ThreeSites();
        var first = 0;
        network.Node("erlangen").Behaviour = (_, _) => Interlocked.Increment(ref first) == 1
            ? throw new RpcException(new Status(StatusCode.Unavailable, "restarting"))
            : Task.FromResult(ScriptedNode.Released(60));
        network.Node("munich").Behaviour = (_, _) => throw new RpcException(new Status(StatusCode.Internal, "disk full"));
        await network.StartCoordinatorAsync();

        var events = await network.Client().CountAsync(TestNetwork.Query());

        Assert.Equal(SiteStatus.Ok, events.Site("erlangen").Status);
        Assert.Equal(2, network.Node("erlangen").Calls);
        Assert.Equal(SiteStatus.Error, events.Site("munich").Status);
        Assert.Equal("Internal: disk full", events.Site("munich").Message);
        Assert.Equal(1, network.Node("munich").Calls);
    }

    [Fact]
    public async Task NoRetryIsStartedThatTheDeadlineCouldNotWaitFor()
    {
        // The first back-off (up to 1.5 × 1.5 s) would outlast the 2 s deadline: the site is reported at once.
        await using var network = await ThreeSites(new FanOutOptions { Deadline = TimeSpan.FromSeconds(2), RetryDelay = TimeSpan.FromSeconds(1.5) });
        network.Node("munich").Behaviour = (_, _) => throw new RpcException(new Status(StatusCode.Unavailable, "restarting"));
        await network.StartCoordinatorAsync();

        var events = await network.Client().CountAsync(TestNetwork.Query());

        Assert.Equal(SiteStatus.Unavailable, events.Site("munich").Status);
        Assert.Equal("unreachable: restarting", events.Site("munich").Message);
        Assert.Equal(1, network.Node("munich").Calls);
    }

    [Fact]
    public async Task TheCircuitOpensAfterRepeatedFailuresAndAProbeLaterFindsTheSiteBack()
    {
        var options = new FanOutOptions { Deadline = TimeSpan.FromSeconds(2), RetryAttempts = 0, BreakerFailures = 3, BreakDuration = TimeSpan.FromSeconds(1) };
        await using var network = await ThreeSites(options);
        var munich = network.Node("munich");
        munich.Behaviour = (_, _) => throw new RpcException(new Status(StatusCode.Unavailable, "overloaded"));
        await network.StartCoordinatorAsync();
        var researcher = network.Client();

        for (var i = 0; i < 3; i++)
            Assert.Equal("unreachable: overloaded", (await researcher.CountAsync(TestNetwork.Query(i))).Site("munich").Message);
        var open = (await researcher.CountAsync(TestNetwork.Query(3))).Site("munich");

        Assert.Equal(SiteStatus.Unavailable, open.Status);
        Assert.StartsWith("circuit open after 3 failures (last: unreachable: overloaded), retrying in ", open.Message);
        Assert.Equal(3, munich.Calls);
        Assert.Equal(CircuitState.Open, (await researcher.SitesAsync()).Sites.Single(s => s.Id == "munich").Circuit);

        munich.Behaviour = (_, _) => Task.FromResult(ScriptedNode.Released(80));
        SiteResult probed;
        var attempt = 4;
        do
        {
            await Task.Delay(options.BreakDuration);
            probed = (await researcher.CountAsync(TestNetwork.Query(attempt++))).Site("munich");
        }
        while (probed.Status != SiteStatus.Ok && attempt < 30);
        Assert.Equal(SiteStatus.Ok, probed.Status);
        Assert.Equal(4, munich.Calls);
        var info = (await researcher.SitesAsync()).Sites.Single(s => s.Id == "munich");
        Assert.Equal(CircuitState.Closed, info.Circuit);
        Assert.True(info.LastSuccessUnixMs > 0);
    }

    [Fact]
    public async Task StratifiedCountsPassThroughPerSiteAndAreSummedPerStratum()
    {
        await using var network = await ThreeSites();
        StratifiedCountReply Strata(long female, long? male) => new()
        {
            Strata =
            {
                new Stratum { Key = { ["sex"] = "female" }, Count = new ReleasedCount { Value = female, Obfuscated = true } },
                new Stratum { Key = { ["sex"] = "male" }, Count = male is { } m ? new ReleasedCount { Value = m, Obfuscated = true } : new ReleasedCount { BelowThreshold = true } },
            },
        };
        network.Node("erlangen").Stratified = (r, _) => Task.FromResult(Strata(30, 20));
        network.Node("munich").Stratified = (r, _) => Task.FromResult(Strata(50, null));
        network.Node("practice").Stratified = (r, _) => Task.FromResult(Strata(10, 10));
        await network.StartCoordinatorAsync();

        var events = await network.Client().CountAsync(TestNetwork.Query(), "", "sex");

        Assert.Equal("stratified-count", events.Started().QueryType);
        Assert.Equal(2, events.Site("munich").Strata.Count);
        var total = events.Total().Strata.ToDictionary(s => s.Key["sex"], s => s.Value);
        Assert.Equal(30 + 50 + 10, total["female"]);
        Assert.Equal(20 + 10, total["male"]);
    }

    [Fact]
    public async Task NoMoreSitesAreAskedAtOnceThanTheConcurrencyBoundAllows()
    {
        await using var network = await ThreeSites(new FanOutOptions { MaxConcurrentSites = 2 });
        int running = 0, most = 0;
        var twoRunning = new TaskCompletionSource();
        foreach (var node in network.Nodes)
            node.Behaviour = async (_, _) =>
            {
                var now = Interlocked.Increment(ref running);
                lock (network) most = Math.Max(most, now);
                if (now >= 2) twoRunning.TrySetResult();
                // Hold the slot until a second call runs too (a third would have to wait for one of them).
                await Task.WhenAny(twoRunning.Task, Task.Delay(TimeSpan.FromSeconds(1)));
                await Task.Delay(50);
                Interlocked.Decrement(ref running);
                return ScriptedNode.Released(10);
            };
        await network.StartCoordinatorAsync();

        var events = await network.Client().CountAsync(TestNetwork.Query());

        Assert.Equal(30, events.Total().Value);
        Assert.Equal(2, most);
    }
}
