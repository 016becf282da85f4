using System.Text.Json;
using Midia.Node.Consent;
using Midia.Node.Store;
using Midia.Node.Tests.Policy;
using Xunit;

namespace Midia.Node.Tests.Consent;

/// <summary>`consent show|set` through the real midia-node executable.</summary>
public sealed class ConsentCommandTests
{
    [Fact]
    public void ConsentSetIsInForceAtOnceAndShowExplainsIt()
    {
        using var site = new ScratchSite();
        site.AddPatient(1, kvnr: "A123456780");
        site.AddDocument(1, ConsentPolicies.Research, true, null, null, "Consent/broad-1");
        var ledger = new ConsentLedger(site.Connection);
        Assert.True(ledger.IsPermitted(1, ConsentPolicies.Research, Days.Today()));

        var set = ScratchSite.Run("consent", "set", "--db", site.Path, "--kvnr", "A123456780", "--policy", "research", "--deny");
        Assert.Equal(0, set.Exit);
        Assert.DoesNotContain("A123456780", set.Out);
        Assert.False(ledger.IsPermitted(1, ConsentPolicies.Research, Days.Today()));
        Assert.Equal(0, ledger.Permitted(ConsentPolicies.Research, Days.Today()).Count());

        var show = ScratchSite.Run("consent", "show", "--db", site.Path, "--patient", "pat-1", "--json");
        Assert.Equal(0, show.Exit);
        using var json = JsonDocument.Parse(show.Out);
        var research = json.RootElement.GetProperty("policies").EnumerateArray().Single(p => p.GetProperty("policy").GetString() == ConsentPolicies.Research);
        Assert.False(research.GetProperty("permittedToday").GetBoolean());
        var origins = research.GetProperty("provisions").EnumerateArray().Select(p => p.GetProperty("origin").GetString()!).Order().ToArray();
        Assert.Equal(["document", "pending"], origins);
        var last = research.GetProperty("periods").EnumerateArray().Last();
        Assert.Equal(DateFlag.Format(Days.Today()), last.GetProperty("from").GetString());
        Assert.Contains("consent set #1", last.GetProperty("because")[0].GetString());

        var row = site.Connection.CreateCommand();
        row.CommandText = "SELECT policy, permit, start, end, seq FROM consent_change";
        using var reader = row.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal((ConsentPolicies.Research, 0L, (long)Days.Today(), true, true), (reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.IsDBNull(3), reader.IsDBNull(4)));
    }

    [Fact]
    public void ConsentSetTakesAPeriodAndTheCareSharingPolicy()
    {
        using var site = new ScratchSite();
        site.AddPatient(1);
        var run = ScratchSite.Run("consent", "set", "--db", site.Path, "--patient", "Patient/pat-1", "--policy", "care-sharing", "--permit", "--from", "2026-01-01", "--to", "2026-12-31");
        Assert.Equal(0, run.Exit);
        var ledger = new ConsentLedger(site.Connection);
        var from = Days.From(new DateOnly(2026, 1, 1));
        var to = Days.From(new DateOnly(2026, 12, 31));
        Assert.Equal([false, true, true, false], new[] { from - 1, from, to, to + 1 }.Select(d => ledger.IsPermitted(1, ConsentPolicies.CareSharing, d)));
    }

    [Fact]
    public void BadConsentInputIsOneLineErrorAndRecordsNothing()
    {
        using var site = new ScratchSite();
        site.AddPatient(1, kvnr: "A123456780");
        (int, string, string)[] runs =
        [
            ScratchSite.Run("consent", "show", "--db", site.Path, "--kvnr", "B987654321"),
            ScratchSite.Run("consent", "set", "--db", site.Path, "--patient", "nobody", "--policy", "research", "--deny"),
            ScratchSite.Run("consent", "set", "--db", site.Path, "--patient", "pat-1", "--policy", "reserch", "--deny"),
            ScratchSite.Run("consent", "set", "--db", site.Path, "--patient", "pat-1", "--policy", "research"),
            ScratchSite.Run("consent", "set", "--db", site.Path, "--patient", "pat-1", "--policy", "research", "--permit", "--deny"),
            ScratchSite.Run("consent", "set", "--db", site.Path, "--patient", "pat-1", "--kvnr", "A123456780", "--policy", "research", "--deny"),
            ScratchSite.Run("consent", "set", "--db", site.Path, "--patient", "pat-1", "--policy", "research", "--deny", "--from", "2026-05-01", "--to", "2026-04-01"),
            ScratchSite.Run("consent", "set", "--db", site.Path, "--patient", "pat-1", "--policy", "research", "--deny", "--from", "yesterday"),
        ];
        string[] expected = ["no patient with that KVNR", "no patient 'nobody'", "unknown consent policy 'reserch'", "exactly one of --permit or --deny",
            "exactly one of --permit or --deny", "exactly one of --kvnr or --patient", "--to 2026-04-01 is before", "--from: expected a date"];
        foreach (var ((exit, _, err), want) in runs.Zip(expected))
        {
            Assert.Equal(1, exit);
            var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal("error: ", line[..7]);
            Assert.Contains(want, line);
            Assert.DoesNotContain("B987654321", line);
        }
        using var count = site.Connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM consent_change";
        Assert.Equal(0L, count.ExecuteScalar());
    }

    [Fact]
    public void ShowPrintsEveryHeadlinePolicyEvenWithoutProvisions()
    {
        using var site = new ScratchSite();
        site.AddPatient(1, kvnr: "A123456780");
        var run = ScratchSite.Run("consent", "show", "--db", site.Path, "--kvnr", "a123456780");
        Assert.Equal(0, run.Exit);
        Assert.Contains("MDAT scientific use (research) (2.16.840.1.113883.3.1937.777.24.5.3.8): NOT PERMITTED today", run.Out);
        Assert.Contains("care sharing with clinicians at other sites (care-sharing): NOT PERMITTED today", run.Out);
        Assert.Contains("no provision (default deny)", run.Out);
        Assert.DoesNotContain("A123456780", run.Out);
    }
}
