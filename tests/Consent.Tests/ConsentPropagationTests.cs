using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.DependencyInjection;
using Midia.Consent.Tests.Support;
using Midia.Node.Consent;
using Midia.Protos.Consent.V1;
using Midia.Protos.Coordinator.V1;
using Midia.Trust;

namespace Midia.Consent.Tests;

/// <summary>
/// Network consent end to end over mutual TLS on loopback: a real coordinator and three real
/// nodes, each with its own SQLite file. Nodes are stopped and started mid-way; the coordinator too.
/// </summary>
public sealed class ConsentPropagationTests : IAsyncLifetime
{
    // The same person at every site (same KVNR, different local ids); one only at erlangen; one
    // without KVNR linked by demographics spelled differently at munich.
    static readonly TestPatient AnnaErlangen = new("p-anna-e", "A123456789", "Meier", "Anna", new DateOnly(1960, 3, 1), "female");
    static readonly TestPatient AnnaMunich = new("p-anna-m", " a123456789", "Meier", "Anna", new DateOnly(1960, 3, 1), "female");
    static readonly TestPatient AnnaBerlin = new("p-anna-b", "A123456789", "Meier", "Anna", new DateOnly(1960, 3, 1), "female");
    static readonly TestPatient BenErlangen = new("p-ben-e", null, "Müller", "Ben", new DateOnly(1971, 7, 9), "male");
    static readonly TestPatient BenMunich = new("p-ben-m", null, "MULLER", "ben", new DateOnly(1971, 7, 9), "male");
    static readonly TestPatient Carl = new("p-carl", "C000000001", "Schulz", "Carl", new DateOnly(1950, 1, 1), "male");

    readonly ConsentNetwork network = new("erlangen", "munich", "berlin");

    public async Task InitializeAsync()
    {
        network["erlangen"].Import(AnnaErlangen, BenErlangen, Carl);
        network["munich"].Import(AnnaMunich, BenMunich);
        network["berlin"].Import(AnnaBerlin);
        await network.StartAllAsync();
    }

    public async Task DisposeAsync() => await network.DisposeAsync();

    [Fact]
    public async Task A_revocation_at_erlangen_changes_munichs_consenting_count_and_is_in_force_at_erlangen_at_once()
    {
        Assert.Equal(2, network["munich"].PermittedCount());
        network["erlangen"].ConsentSet(AnnaErlangen.ResourceId, ConsentPolicies.Research, permit: false);
        // In force at the origin before anything reached the coordinator.
        Assert.False(network["erlangen"].Permitted(AnnaErlangen.ResourceId));

        await ConsentNetwork.Eventually(() => !network["munich"].Permitted(AnnaMunich.ResourceId), "munich honours erlangen's revocation");
        Assert.Equal(1, network["munich"].PermittedCount());
        Assert.True(network["munich"].Permitted(BenMunich.ResourceId));
        await ConsentNetwork.Eventually(() => !network["berlin"].Permitted(AnnaBerlin.ResourceId), "berlin honours it too");
        Assert.True(network["erlangen"].Permitted(Carl.ResourceId));

        // The coordinator's log holds one change from erlangen, keyed by a pseudonym, never the KVNR.
        var log = Assert.Single(network.Log());
        Assert.Equal("erlangen", log.Origin);
        Assert.DoesNotContain("A123456789", log.Linkage, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(43, log.Linkage.Length);
    }

    [Fact]
    public async Task A_change_for_a_patient_without_kvnr_reaches_the_same_person_linked_by_demographics()
    {
        network["erlangen"].ConsentSet(BenErlangen.ResourceId, ConsentPolicies.Research, permit: false);
        await ConsentNetwork.Eventually(() => !network["munich"].Permitted(BenMunich.ResourceId), "munich honours the revocation for Ben");
        Assert.True(network["munich"].Permitted(AnnaMunich.ResourceId));
    }

    [Fact]
    public async Task A_node_that_was_down_during_the_change_has_it_after_it_comes_back()
    {
        await network["berlin"].StopAsync();
        network["erlangen"].ConsentSet(AnnaErlangen.ResourceId, ConsentPolicies.Research, permit: false);
        await ConsentNetwork.Eventually(() => !network["munich"].Permitted(AnnaMunich.ResourceId), "munich has the change");
        Assert.True(network["berlin"].Permitted(AnnaBerlin.ResourceId));  // still the old state in berlin's file

        await network["berlin"].StartAsync();
        await ConsentNetwork.Eventually(() => !network["berlin"].Permitted(AnnaBerlin.ResourceId), "berlin catches up after restart");
        await ConsentNetwork.Eventually(() => SitesReply().Sites.All(s => s.AppliedConsentSequence == 1), "every site shows applied sequence 1 in Sites");
    }

    [Fact]
    public async Task A_person_unknown_at_a_site_is_covered_when_they_turn_up_there_later()
    {
        network["erlangen"].ConsentSet(Carl.ResourceId, ConsentPolicies.Research, permit: false);
        await ConsentNetwork.Eventually(() => network["berlin"].Network().Cursor == 1, "berlin stores the change for a stranger");
        // Carl is imported at berlin afterwards with a research permit document: the network deny still wins.
        network["berlin"].Import(Carl with { ResourceId = "p-carl-b" });
        await ConsentNetwork.Eventually(() => !network["berlin"].Permitted("p-carl-b"), "berlin links the newcomer and honours the deny");
    }

    [Fact]
    public async Task The_coordinator_killed_after_accepting_and_a_node_killed_before_acknowledging_still_end_with_every_change_applied_once()
    {
        // Munich and berlin are down; erlangen's change is accepted (durable seq) but cannot be pushed.
        await network["munich"].StopAsync();
        await network["berlin"].StopAsync();
        network["erlangen"].ConsentSet(AnnaErlangen.ResourceId, ConsentPolicies.Research, permit: false);
        await ConsentNetwork.Eventually(() => network.Log().Count == 1, "the coordinator accepted the change");
        await network.StopCoordinatorAsync();

        // Munich comes back with a receiver that applies and then dies before its reply leaves.
        var dying = new DiesAfterApplying();
        await network["munich"].StartAsync(builder =>
        {
            // Registered, so grpc-dotnet uses this one instance for every call (innermost, after the node's own interceptors).
            builder.Services.AddSingleton(dying);
            builder.Services.Configure<GrpcServiceOptions>(grpc => grpc.Interceptors.Add<DiesAfterApplying>());
        });
        await network.StartCoordinatorAsync();
        await ConsentNetwork.Eventually(() => dying.Died > 0, "the coordinator pushed to munich");
        await network["munich"].StopAsync();
        Assert.Equal(0, network.Distributor.AppliedSequence("munich"));   // never acknowledged

        // Restart both; a second change in between, from munich itself.
        await network.StopCoordinatorAsync();
        await network.StartCoordinatorAsync();
        await network["munich"].StartAsync();
        await network["berlin"].StartAsync();
        network["munich"].ConsentSet(AnnaMunich.ResourceId, ConsentPolicies.CareSharing, permit: true);

        await ConsentNetwork.Eventually(() => network.Nodes.All(n => n.Network().Cursor == 2), "every node holds both changes");
        foreach (var node in network.Nodes)
        {
            var (cursor, rows) = node.Network();
            Assert.Equal(new Dictionary<long, int> { [1] = 1, [2] = 1 }, rows);   // exactly once each
        }
        Assert.Equal(2, network.Log().Count);
        Assert.False(network["munich"].Permitted(AnnaMunich.ResourceId));
        Assert.True(network["berlin"].Permitted(AnnaBerlin.ResourceId, ConsentPolicies.CareSharing));
        Assert.True(network["erlangen"].Permitted(AnnaErlangen.ResourceId, ConsentPolicies.CareSharing));
    }

    [Fact]
    public async Task Concurrent_changes_for_one_patient_from_two_sites_end_in_the_same_state_everywhere_the_later_logged_winning()
    {
        for (var round = 0; round < 5; round++)
        {
            var a = Task.Run(() => network["erlangen"].ConsentSet(AnnaErlangen.ResourceId, ConsentPolicies.Research, permit: round % 2 == 0));
            var b = Task.Run(() => network["munich"].ConsentSet(AnnaMunich.ResourceId, ConsentPolicies.Research, permit: round % 2 != 0));
            await Task.WhenAll(a, b);
        }
        await ConsentNetwork.Eventually(() => network.Log().Count == 10 && network.Nodes.All(n => n.Network().Cursor == 10), "all ten changes everywhere");
        // Independent: the last change in the coordinator's log decides.
        var last = network.Log()[^1];
        Assert.Equal(last.Permit, network["erlangen"].Permitted(AnnaErlangen.ResourceId));
        Assert.Equal(last.Permit, network["munich"].Permitted(AnnaMunich.ResourceId));
        Assert.Equal(last.Permit, network["berlin"].Permitted(AnnaBerlin.ResourceId));
    }

    [Fact]
    public async Task Submitting_the_same_change_twice_stores_it_once_with_one_seq()
    {
        var client = network.ConsentLogClient("erlangen");
        var change = new ConsentChange { OriginSite = "erlangen", OriginChangeId = 9000, Linkage = new string('x', 43), Policy = ConsentPolicies.Research, Permit = false };
        var other = change.Clone();
        other.OriginChangeId = 9001;
        var first = await client.SubmitAsync(new SubmitRequest { Changes = { change } });
        var second = await client.SubmitAsync(new SubmitRequest { Changes = { change, other, change } });
        Assert.Equal(0, first.Duplicates);
        Assert.Equal(2, second.Duplicates);
        Assert.Equal([first.Seqs[0], first.Seqs[0] + 1, first.Seqs[0]], second.Seqs);
        Assert.Equal([(9000L, first.Seqs[0]), (9001L, first.Seqs[0] + 1)], network.Log().Select(l => (l.OriginId, l.Seq)));

        var pulled = await client.PullAsync(new PullRequest { AfterSeq = 0 });
        Assert.Equal([1L, 2L], pulled.Changes.Select(c => c.Seq));
    }

    [Fact]
    public async Task A_node_may_not_submit_changes_in_another_sites_name()
    {
        var client = network.ConsentLogClient("munich");
        var change = new ConsentChange { OriginSite = "erlangen", OriginChangeId = 1, Linkage = "abc", Policy = ConsentPolicies.Research };
        var e = await Assert.ThrowsAsync<RpcException>(() => client.SubmitAsync(new SubmitRequest { Changes = { change } }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Empty(network.Log());
    }

    [Fact]
    public async Task Consent_show_names_the_origin_site_and_seq_of_a_network_change()
    {
        network["erlangen"].ConsentSet(AnnaErlangen.ResourceId, ConsentPolicies.Research, permit: false);
        await ConsentNetwork.Eventually(() => network["munich"].Network().Cursor == 1, "munich applied it");
        using var connection = Midia.Node.Store.SiteDatabase.Open(network["munich"].DbPath);
        var pid = Midia.Node.Store.LocalPatient.Find(connection, null, AnnaMunich.ResourceId);
        var research = new ConsentLedger(connection).Explain(pid, Midia.Node.Store.Days.Today()).Policies.Single(p => p.Policy == ConsentPolicies.Research);
        Assert.False(research.PermittedToday);
        Assert.Contains(research.Periods[^1].Because, b => b.Contains("seq 1", StringComparison.Ordinal) && b.Contains("erlangen", StringComparison.Ordinal));
    }

    SitesReply SitesReply()
    {
        using var channel = NetworkChannel.Open(network.CoordinatorAddress, network.Material("researcher", "Dr R"));
        return new Research.ResearchClient(channel.Invoker).Sites(new SitesRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
    }
}

/// <summary>
/// Munich's ConsentReceiver applies what it is pushed, and then the node dies before the reply
/// leaves: the real receiver runs, its reply is replaced by UNAVAILABLE on the way out.
/// </summary>
public sealed class DiesAfterApplying : Interceptor
{
    int died;

    public int Died => Volatile.Read(ref died);

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var reply = await continuation(request, context);
        if (request is not ApplyRequest) return reply;
        Interlocked.Increment(ref died);
        throw new RpcException(new Status(StatusCode.Unavailable, "node died"));
    }
}
