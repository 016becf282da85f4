using Midia.Consent.Tests.Support;
using Midia.Coordinator.Quota;
using Midia.Node.Consent;
using Midia.Node.Policy;
using Midia.Node.Store;
using Midia.Protos.Coordinator.V1;
using static Midia.Consent.Tests.Support.ClinicalFact;

namespace Midia.Consent.Tests.Faults;

/// <summary>
/// Sites whose clocks disagree. What the product guarantees: the order of consent changes is the
/// coordinator's sequence, never a clock; a revocation is in force at every site once applied,
/// even when the site that made it dated it a day ahead; a summary ticket is sealed and checked
/// by the same node's clock; deadlines travel as relative timeouts (grpc-timeout), so no site's
/// clock moves another's deadline.
/// </summary>
public sealed class ClockSkewTests : IAsyncLifetime
{
    static readonly ClinicalRecord Anna = new("anna-e", "A123456789", "Meier", "Anna", new DateOnly(1960, 3, 1), "female", true,
        [Condition("http://fhir.de/CodeSystem/bfarm/icd-10-gm", "C50.4", "Brustkrebs", new DateOnly(2019, 3, 10))]);

    readonly ConsentNetwork network = new("erlangen", "munich", "berlin") { Quota = new QuotaOptions { PerMinute = 1000, Per7Days = 1000 } };

    public async Task InitializeAsync()
    {
        foreach (var node in network.Nodes)
        {
            node.Import(new TestPatient($"anna-{node.Site}", "A123456789", "Meier", "Anna", new DateOnly(1960, 3, 1), "female"));
            node.Approve(QueryTypes.PatientSummary);
        }
        await network.StartAllAsync();
    }

    public async Task DisposeAsync() => await network.DisposeAsync();

    [Fact]
    public async Task A_revocation_dated_a_day_ahead_by_a_fast_clock_is_in_force_at_once_everywhere_and_later_changes_win_by_sequence_not_by_date()
    {
        var today = Days.Today();
        Assert.All(network.Nodes, n => Assert.True(n.Permitted($"anna-{n.Site}")));

        // Erlangen's clock is a day ahead: its `consent set --deny` dates the revocation tomorrow.
        Record("erlangen", permit: false, start: today + 1);
        await Applied(1);
        Assert.False(network["munich"].Permitted("anna-munich"), "a revocation from a site whose clock is ahead must not wait for that site's date");
        Assert.False(network["berlin"].Permitted("anna-berlin"));

        // Then munich, whose clock is a day behind, records a permit dated yesterday; it came later, so it wins.
        Record("munich", permit: true, start: today - 1);
        await Applied(2);
        Assert.True(network["berlin"].Permitted("anna-berlin"));
        Assert.True(network["erlangen"].Permitted("anna-erlangen"));

        // And erlangen (still ahead) revokes again: the latest in the log wins at every site, whatever the dates say.
        Record("erlangen", permit: false, start: today + 1);
        await Applied(3);
        Assert.False(network["munich"].Permitted("anna-munich"));
        Assert.False(network["berlin"].Permitted("anna-berlin"));
        Assert.Equal([1L, 2L, 3L], network.Log().Select(l => l.Seq));
    }

    [Fact]
    public async Task A_revocation_planned_for_a_later_date_still_waits_for_it()
    {
        // Not clock skew: a start well beyond a day ahead is the patient's plan and is kept.
        Record("erlangen", permit: false, start: Days.Today() + 30);
        await Applied(1);
        Assert.True(network["munich"].Permitted("anna-munich"));
        Assert.Equal([(Days.Today() + 30).ToString(System.Globalization.CultureInfo.InvariantCulture)], network["munich"].Rows("SELECT start FROM consent_provision WHERE seq = 1"));
    }

    [Fact]
    public async Task A_summary_ticket_is_checked_by_the_clock_of_the_node_that_sealed_it_so_a_skewed_site_still_serves_its_clinicians()
    {
        // Erlangen's clock runs two hours behind the coordinator and the other sites; berlin's a day ahead.
        await network["erlangen"].StopAsync();
        var behind = new SkewedClock(TimeSpan.FromHours(-2));
        network["erlangen"].Clock = behind;
        await network["erlangen"].StartAsync();
        network["berlin"].ImportFhir("anna.json", ClinicalRecord.Bundle(Anna with { ResourceId = "anna-b2" }));

        var clinicianAtNode = network.Client("clinician", "Dr Clara Clinician", "erlangen", node: "erlangen");
        var clinician = network.Client("clinician", "Dr Clara Clinician", "erlangen");
        var summary = await Requests.SummaryAsync(clinicianAtNode, clinician, "erlangen", "anna-erlangen");
        Assert.Equal(SiteStatus.Ok, summary.Sites.Single(s => s.Site == "erlangen").Status);
        Assert.Equal(SiteStatus.Ok, summary.Sites.Single(s => s.Site == "berlin").Status);

        // Its tickets expire by its own clock: five minutes later on erlangen's clock, the coordinator is told to resolve again.
        var ticket = (await Requests.ResolveAsync(clinicianAtNode, "anna-erlangen")).Ticket;
        behind.Advance(Midia.Node.Care.PatientTickets.Lifetime);
        var expired = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => Requests.SummaryAsync(clinician, new SummaryRequest { Site = "erlangen", Ticket = ticket }));
        Assert.Contains("expired", expired.Status.Detail);
    }

    /// <summary>What `midia-node consent set` at a site writes when that site's calendar says <paramref name="start"/> is today.</summary>
    void Record(string site, bool permit, int start)
    {
        var node = network[site];
        using (var connection = SiteDatabase.Open(node.DbPath))
        {
            var pid = LocalPatient.Find(connection, null, $"anna-{site}");
            new ConsentLedger(connection).Record(pid, ConsentPolicies.Research, permit, start, null);
        }
        node.Sync?.Wake();
    }

    Task Applied(long seq) => ConsentNetwork.Eventually(() => network.Nodes.All(n => n.Network().Cursor == seq), $"every site applied consent change seq {seq}");
}

/// <summary>The machine's clock shifted by an offset (a site whose clock is off), movable forward by a test.</summary>
public sealed class SkewedClock(TimeSpan offset) : TimeProvider
{
    long offsetTicks = offset.Ticks;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref offsetTicks, by.Ticks);
}
