using System.Text.Json;
using Midia.Node.Audit;
using Midia.Node.Policy;
using Xunit;

namespace Midia.Node.Tests.Policy;

/// <summary>The admin verbs through the real midia-node executable: exit codes, one-line errors, --json.</summary>
public sealed class AdminCommandTests
{
    static void AssertOneLineError((int Exit, string Out, string Err) run, string contains)
    {
        Assert.NotEqual(0, run.Exit);
        var line = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(contains, line);
    }

    [Fact]
    public void ApproveRevokeAndListWorkThroughTheCommandLine()
    {
        using var site = new ScratchSite();
        new QueryApproval(site.Connection).Check(QueryTypes.StratifiedCount, "P9", 20000);
        Assert.Equal(0, ScratchSite.Run("admin", "approve", "--db", site.Path, "cohort-count").Exit);
        Assert.Equal(0, ScratchSite.Run("admin", "approve", "--db", site.Path, "patient-summary", "--project", "P1", "--until", "2099-12-31").Exit);
        Assert.Equal(0, ScratchSite.Run("admin", "revoke", "--db", site.Path, "patient-report").Exit);

        var list = ScratchSite.Run("admin", "list", "--db", site.Path, "--json");
        Assert.Equal(0, list.Exit);
        using var json = JsonDocument.Parse(list.Out);
        var approved = json.RootElement.GetProperty("approved").EnumerateArray().Select(a => (a.GetProperty("queryType").GetString(), a.GetProperty("project").GetString(), a.GetProperty("until").GetString())).ToList();
        Assert.Equal([("cohort-count", null, null), ("patient-summary", "P1", "2099-12-31")], approved);
        var pending = Assert.Single(json.RootElement.GetProperty("pending").EnumerateArray());
        Assert.Equal(("stratified-count", "P9", 1), (pending.GetProperty("queryType").GetString(), pending.GetProperty("project").GetString(), pending.GetProperty("requests").GetInt32()));
        var denied = Assert.Single(json.RootElement.GetProperty("denied").EnumerateArray());
        Assert.Equal(("patient-report", "revoked"), (denied.GetProperty("queryType").GetString(), denied.GetProperty("reason").GetString()));

        Assert.True(new QueryApproval(site.Connection).Check(QueryTypes.CohortCount, "any", 20000).Allowed);
        var text = ScratchSite.Run("admin", "list", "--db", site.Path);
        Assert.Contains("stratified-count", text.Out);
        Assert.Contains("pending", text.Out);
    }

    [Fact]
    public void BadAdminInputIsOneLineErrorAndChangesNothing()
    {
        using var site = new ScratchSite();
        AssertOneLineError(ScratchSite.Run("admin", "approve", "--db", site.Path, "cohort-cont"), "unknown query type 'cohort-cont'");
        AssertOneLineError(ScratchSite.Run("admin", "approve", "--db", site.Path, "cohort-count", "--until", "31.12.2026"), "--until: expected a date YYYY-MM-DD");
        AssertOneLineError(ScratchSite.Run("admin", "approve", "--db", site.Path, "cohort-count", "--until", "2001-01-01"), "--until 2001-01-01 is in the past");
        AssertOneLineError(ScratchSite.Run("admin", "list", "--db", site.Path + ".missing"), "does not exist");
        AssertOneLineError(ScratchSite.Run("admin", "disclosure", "--db", site.Path, "cohort-count", "--epsilon", "-1"), "--epsilon");
        AssertOneLineError(ScratchSite.Run("admin", "disclosure", "--db", site.Path, "cohort-count", "--round", "0"), "--round");
        AssertOneLineError(ScratchSite.Run("admin", "approve", "cohort-count"), "--db");
        Assert.Empty(new QueryApproval(site.Connection).Overview(20000).Approved);
        Assert.False(new Midia.Node.Disclosure.DisclosureControl(site.Connection).Setting(QueryTypes.CohortCount).Exact);
    }

    [Fact]
    public void DisclosureShowsTheDefaultsAndChangesOnlyTheGivenFlags()
    {
        using var site = new ScratchSite();
        var shown = ScratchSite.Run("admin", "disclosure", "--db", site.Path, "cohort-count", "--json");
        Assert.Equal(0, shown.Exit);
        using (var json = JsonDocument.Parse(shown.Out))
        {
            Assert.Equal(0.5m, json.RootElement.GetProperty("epsilon").GetDecimal());
            Assert.Equal(10, json.RootElement.GetProperty("round").GetInt32());
            Assert.Equal(10, json.RootElement.GetProperty("threshold").GetInt32());
            Assert.False(json.RootElement.GetProperty("exact").GetBoolean());
        }
        Assert.Equal(0, ScratchSite.Run("admin", "disclosure", "--db", site.Path, "cohort-count", "--epsilon", "0.25", "--threshold", "5").Exit);
        Assert.Equal(0, ScratchSite.Run("admin", "disclosure", "--db", site.Path, "stratified-count", "--exact").Exit);
        var control = new Midia.Node.Disclosure.DisclosureControl(site.Connection);
        var cohort = control.Setting(QueryTypes.CohortCount);
        Assert.Equal((0.25m, 10, 5, false), (cohort.Epsilon, cohort.Round, cohort.Threshold, cohort.Exact));
        Assert.True(control.Setting(QueryTypes.StratifiedCount).Exact);
        Assert.Equal(0, ScratchSite.Run("admin", "disclosure", "--db", site.Path, "stratified-count", "--exact", "false").Exit);
        Assert.False(control.Setting(QueryTypes.StratifiedCount).Exact);
        Assert.Contains("(epsilon 0.25), rounded to 10", ScratchSite.Run("admin", "disclosure", "--db", site.Path, "cohort-count").Out);
    }

    [Fact]
    public void AuditPrintsEntriesSinceADayAsOneJsonDocument()
    {
        using var site = new ScratchSite();
        var log = new AuditLog(site.Connection);
        log.Record(new AuditEntry(new DateTime(2026, 1, 5, 9, 0, 0, DateTimeKind.Utc), "Dr. A", "researcher", "P1", "cohort-count", "h1", AuditOutcome.Answered, null, "≈140 (noise)"));
        log.Record(new AuditEntry(new DateTime(2026, 2, 5, 9, 0, 0, DateTimeKind.Utc), "Dr. B", "researcher", "P2", "stratified-count", "h2", AuditOutcome.Refused, "query type stratified-count not approved by the site admin", null, "q-0001"));
        var run = ScratchSite.Run("admin", "audit", "--db", site.Path, "--since", "2026-02-01", "--json");
        Assert.Equal(0, run.Exit);
        using var json = JsonDocument.Parse(run.Out);
        var entry = Assert.Single(json.RootElement.GetProperty("entries").EnumerateArray());
        Assert.Equal(("Dr. B", "refused", "2026-02-05T09:00:00.000Z", "q-0001"),
            (entry.GetProperty("user").GetString(), entry.GetProperty("outcome").GetString(), entry.GetProperty("time").GetString(), entry.GetProperty("requestId").GetString()));
        var text = ScratchSite.Run("admin", "audit", "--db", site.Path);
        Assert.Equal(2, text.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("≈140", text.Out);
    }

    [Fact]
    public void EveryAdminVerbHasHelp()
    {
        foreach (var verb in new[] { "list", "approve", "revoke", "disclosure", "audit" })
        {
            var run = ScratchSite.Run("admin", verb, "--help");
            Assert.Equal(0, run.Exit);
            Assert.Contains("--db", run.Out);
        }
    }
}
