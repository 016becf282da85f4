using Xunit;
using Midia.Node.Consent;
using Midia.Node.Store;
using Midia.Node.Tests.Policy;
using Midia.Hosting;

namespace Midia.Node.Tests.Consent;

public sealed class ConsentLedgerTests
{
    const string Research = ConsentPolicies.Research;
    const string Care = ConsentPolicies.CareSharing;

    [Fact]
    public void APatientWithoutAnyProvisionIsNotPermitted()
    {
        using var site = new ScratchSite();
        site.AddPatient(1);
        var ledger = new ConsentLedger(site.Connection);
        Assert.Equal(0, ledger.Permitted(Research, 100).Count());
        Assert.False(ledger.IsPermitted(1, Research, 100));
    }

    [Fact]
    public void PermitPeriodsAreMergedAndDenyPeriodsSubtracted()
    {
        using var site = new ScratchSite();
        site.AddPatient(1);
        site.AddDocument(1, Research, true, 10, 20);
        site.AddDocument(1, Research, true, 21, 30);
        site.AddDocument(1, Research, false, 15, 17);
        var ledger = new ConsentLedger(site.Connection);
        var permitted = Enumerable.Range(0, 40).Where(d => ledger.IsPermitted(1, Research, d)).ToArray();
        Assert.Equal([10, 11, 12, 13, 14, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30], permitted);
        Assert.False(ledger.IsPermitted(1, Care, 12));
    }

    [Fact]
    public void ANetworkDenyOverridesALocalPermitAndALaterSeqWinsWhateverTheInsertOrder()
    {
        using var site = new ScratchSite();
        site.AddPatient(1, linkage: "L1");
        site.AddPatient(2, linkage: "L2");
        site.AddDocument(1, Research, true, null, null);
        site.AddDocument(2, Research, true, null, null);
        site.AddNetworkChange("L1", 7, Research, false, 50, null);
        // Inserted first but later in the log: seq 9 decides for patient 2.
        site.AddNetworkChange("L2", 9, Research, true, 50, null);
        site.AddNetworkChange("L2", 8, Research, false, 50, null);
        var ledger = new ConsentLedger(site.Connection);
        Assert.Equal([1L, 2L], ledger.Permitted(Research, 49).Members());
        Assert.Equal([2L], ledger.Permitted(Research, 50).Members());
        Assert.False(ledger.IsPermitted(1, Research, 50));
        Assert.True(ledger.IsPermitted(2, Research, 50));
    }

    [Fact]
    public void ANetworkChangeForALinkageNotAtThisSiteChangesNothingHere()
    {
        using var site = new ScratchSite();
        site.AddPatient(1, linkage: "L1");
        site.AddDocument(1, Research, true, null, null);
        site.AddNetworkChange("L-elsewhere", 1, Research, false, null, null);
        Assert.Equal([1L], new ConsentLedger(site.Connection).Permitted(Research, 5).Members());
    }

    [Fact]
    public void ASiteWideSetIsReusedUntilTheDataVersionChangesAndCallersCannotSpoilIt()
    {
        using var site = new ScratchSite();
        site.AddPatient(1);
        site.AddPatient(2);
        site.AddDocument(1, Research, true, null, null);
        var ledger = new ConsentLedger(site.Connection);
        var first = ledger.Permitted(Research, 5);
        first.Add(2);
        site.AddDocument(2, Research, true, null, null); // not yet announced: the cached answer stands
        Assert.Equal([1L], ledger.Permitted(Research, 5).Members());
        site.BumpDataVersion();
        Assert.Equal([1L, 2L], ledger.Permitted(Research, 5).Members());
    }

    [Fact]
    public void AConsentChangeReusesTheDocumentsAndAnImportRereadsThem()
    {
        using var site = new ScratchSite();
        site.AddPatient(1);
        site.AddPatient(2);
        site.AddPatient(3);
        site.AddDocument(1, Research, true, null, null);
        site.AddDocument(2, Research, true, null, null);
        site.BumpDataVersion();
        var ledger = new ConsentLedger(site.Connection);
        Assert.Equal([1L, 2L], ledger.Permitted(Research, 5).Members());
        // A document row that no import announced: a consent change alone must not re-read documents.
        site.AddDocument(3, Research, true, null, null);
        ledger.Record(2, Research, permit: false, start: null, end: null);
        Assert.Equal([1L], ledger.Permitted(Research, 5).Members());
        site.BumpDataVersion(); // what an import does
        Assert.Equal([1L, 3L], ledger.Permitted(Research, 5).Members());
    }

    [Fact]
    public void AConsentSetHereIsInForceAtOnceAndCountsOnceAfterTheNetworkLoggedIt()
    {
        using var site = new ScratchSite();
        site.AddPatient(1, linkage: "L1");
        site.AddDocument(1, Research, true, null, null);
        site.AddNetworkChange("L1", 3, Research, true, null, null);
        var ledger = new ConsentLedger(site.Connection);
        Assert.True(ledger.IsPermitted(1, Research, 100));
        Assert.Equal(1, ledger.Permitted(Research, 100).Count());

        var id = ledger.Record(1, Research, permit: false, start: 100, end: null);
        Assert.False(ledger.IsPermitted(1, Research, 100));
        Assert.True(ledger.IsPermitted(1, Research, 99));
        Assert.Equal(0, ledger.Permitted(Research, 100).Count());

        // The consent sync (issue 5) gets seq 4 back and stores the change as a network row.
        site.Sql("UPDATE consent_change SET seq = 4 WHERE id = $id", ("$id", id));
        site.AddNetworkChange("L1", 4, Research, false, 100, null);
        site.BumpDataVersion();
        Assert.False(ledger.IsPermitted(1, Research, 100));
        Assert.Equal(0, ledger.Permitted(Research, 100).Count());
        var sources = ledger.Explain(1, 100).Policies.Single(p => p.Policy == Research).Provisions;
        Assert.DoesNotContain(sources, p => p.Origin == ConsentOrigin.Pending);
    }

    [Fact]
    public void ExplainNamesTheProvisionThatDecidesEachPeriod()
    {
        using var site = new ScratchSite();
        site.AddPatient(1, linkage: "L1");
        site.AddDocument(1, Research, true, 10, 100, "Consent/broad");
        site.AddNetworkChange("L1", 5, Research, false, 50, null);
        var research = new ConsentLedger(site.Connection).Explain(1, 60).Policies.Single(p => p.Policy == Research);
        Assert.False(research.PermittedToday);
        Assert.Collection(research.Periods,
            p => Assert.Equal((null, 9L, false, "no provision (default deny)"), (p.From, p.To, p.Permitted, p.Because.Single())),
            p => Assert.Equal((10L, 49L, true, "permit in Consent/broad"), (p.From, p.To, p.Permitted, p.Because.Single())),
            p => Assert.Equal((50L, (long?)null, false, "network deny (seq 5, network:5)"), (p.From, p.To, p.Permitted, p.Because.Single())));
        Assert.Contains(new ConsentLedger(site.Connection).Explain(1, 60).Policies, p => p.Policy == Care && !p.PermittedToday);
    }

    /// <summary>
    /// Property test: random documents, network changes and desk changes; the ledger's site-wide
    /// sets, single-patient answers and explained periods all equal a day-by-day replay.
    /// </summary>
    [Fact]
    public void EvaluationEqualsADayByDayReplayOverRandomProvisionSets()
    {
        for (int seed = 1; seed <= 12; seed++)
        {
            using var site = new ScratchSite();
            var random = new Random(seed);
            const int patients = 25, lastDay = 40;
            string[] policies = [Research, Care];
            var linkage = new Dictionary<long, string?>();
            for (long pid = 1; pid <= patients; pid++)
            {
                linkage[pid] = random.Next(5) == 0 ? null : $"L{pid}";
                site.AddPatient(pid, linkage: linkage[pid]);
            }
            int? Bound() => random.Next(4) == 0 ? null : random.Next(0, lastDay + 1);
            (int? Start, int? End) Period()
            {
                var (a, b) = (Bound(), Bound());
                return a is not null && b is not null && a > b ? (b, a) : (a, b);
            }

            var documents = new List<(long Pid, string Policy, bool Permit, int? Start, int? End)>();
            for (int i = 0; i < 70; i++)
            {
                var (s, e) = Period();
                var d = ((long)random.Next(1, patients + 1), policies[random.Next(2)], random.Next(3) > 0, s, e);
                documents.Add(d);
                site.AddDocument(d.Item1, d.Item2, d.Item3, s, e);
            }
            var network = new List<(long Seq, string Linkage, string Policy, bool Permit, int? Start, int? End)>();
            var seqs = Enumerable.Range(1, 40).OrderBy(_ => random.Next()).ToArray(); // inserted out of order
            foreach (var seq in seqs)
            {
                var (s, e) = Period();
                var target = random.Next(patients + 3) + 1; // some linkages unknown here
                var n = ((long)seq, $"L{target}", policies[random.Next(2)], random.Next(2) == 0, s, e);
                network.Add(n);
                site.AddNetworkChange(n.Item2, n.Item1, n.Item3, n.Item4, s, e);
            }
            var ledger = new ConsentLedger(site.Connection);
            var desk = new List<(long Pid, string Policy, bool Permit, int? Start, int? End)>();
            for (int i = 0; i < 10; i++)
            {
                var (s, e) = Period();
                var c = ((long)random.Next(1, patients + 1), policies[random.Next(2)], random.Next(2) == 0, s, e);
                desk.Add(c);
                ledger.Record(c.Item1, c.Item2, c.Item3, s, e);
            }

            static bool Covers(int? s, int? e, int day) => (s is null || s <= day) && (e is null || day <= e);
            foreach (var policy in policies)
            {
                // Reference: per patient an array of days; MII rule, then replay network by seq, then desk changes.
                var expected = new Dictionary<long, bool[]>();
                for (long pid = 1; pid <= patients; pid++)
                {
                    var permit = new bool[lastDay + 3];
                    var deny = new bool[lastDay + 3];
                    foreach (var d in documents.Where(d => d.Pid == pid && d.Policy == policy))
                        for (int day = -1; day <= lastDay + 1; day++)
                            if (Covers(d.Start, d.End, day)) (d.Permit ? permit : deny)[day + 1] = true;
                    var state = permit.Zip(deny, (p, q) => p && !q).ToArray();
                    var replay = network.Where(n => n.Linkage == linkage[pid] && n.Policy == policy).OrderBy(n => n.Seq)
                        .Select(n => (n.Permit, n.Start, n.End))
                        .Concat(desk.Where(c => c.Pid == pid && c.Policy == policy).Select(c => (c.Permit, c.Start, c.End)));
                    foreach (var (p, s, e) in replay)
                        for (int day = -1; day <= lastDay + 1; day++)
                            if (Covers(s, e, day)) state[day + 1] = p;
                    expected[pid] = state;
                }
                for (int day = -1; day <= lastDay + 1; day++)
                {
                    var want = expected.Where(kv => kv.Value[day + 1]).Select(kv => kv.Key).Order().ToArray();
                    Assert.Equal(want, ledger.Permitted(policy, day).Members().ToArray());
                    foreach (var pid in expected.Keys)
                        Assert.Equal(expected[pid][day + 1], ledger.IsPermitted(pid, policy, day));
                }
                for (long pid = 1; pid <= patients; pid++)
                {
                    var periods = ledger.Explain(pid, 0).Policies.Single(p => p.Policy == policy).Periods;
                    for (int day = -1; day <= lastDay + 1; day++)
                    {
                        var period = Assert.Single(periods, p => (p.From is null || p.From <= day) && (p.To is null || day <= p.To));
                        Assert.Equal(expected[pid][day + 1], period.Permitted);
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData("research", ConsentPolicies.Research)]
    [InlineData("RESEARCH", ConsentPolicies.Research)]
    [InlineData("care-sharing", ConsentPolicies.CareSharing)]
    [InlineData("2.16.840.1.113883.3.1937.777.24.5.3.8", ConsentPolicies.Research)]
    [InlineData("urn:oid:2.16.840.1.113883.3.1937.777.24.5.3.37", "2.16.840.1.113883.3.1937.777.24.5.3.37")]
    public void PolicyFlagsResolveToFullCodes(string flag, string code) => Assert.Equal(code, ConsentPolicies.Resolve(flag));

    [Theory]
    [InlineData("reserch")]
    [InlineData("2.16.840.1.113883.3.1937.777.24.5.3")]
    [InlineData("2.16.840.1.113883.3.1937.777.24.5.3.8.1")]
    [InlineData("1.2.3.8")]
    public void AnUnknownPolicyIsAClearError(string flag)
    {
        var error = Assert.Throws<CommandException>(() => ConsentPolicies.Resolve(flag));
        Assert.Contains($"unknown consent policy '{flag}'", error.Message);
    }
}
