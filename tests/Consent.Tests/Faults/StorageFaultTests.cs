using Microsoft.Data.Sqlite;
using Midia.Consent.Tests.Support;
using Midia.Coordinator.FanOut;
using Midia.Coordinator.Quota;
using Midia.Node.Policy;
using Midia.Node.Store;
using Midia.Protos.Coordinator.V1;
using Grpc.Core;
using static Midia.Consent.Tests.Support.ClinicalFact;

namespace Midia.Consent.Tests.Faults;

/// <summary>
/// A node whose database cannot take writes. Simulated by how the node's sessions open the file
/// (tests cannot mount a small or read-only volume on every CI machine):
/// * read-only: the file opened read-only, as SQLite does for a file the process may not write
///   (every write fails with SQLITE_READONLY);
/// * disk full: the connection's `PRAGMA max_page_count` pinned to the file's size, so the first
///   write that needs a new page fails with SQLITE_FULL, as on a full disk.
/// The node starts on the faulty database (as after a remount or on a full volume); the condition
/// then ends while it keeps running. Expected: a status that says what is wrong, no answer that
/// leaves the node without its audit entry, nothing committed lost, and answers again at once.
/// </summary>
public sealed class StorageFaultTests : IAsyncLifetime
{
    static readonly ClinicalRecord[] Women = Enumerable.Range(0, 12).Select(i =>
        new ClinicalRecord($"w{i}", $"W{i:D9}", "Frau", $"W{i}", new DateOnly(1960 + i, 3, 1), "female", true,
            [Condition("http://fhir.de/CodeSystem/bfarm/icd-10-gm", "C50.4", "Brustkrebs", new DateOnly(2019, 3, 10))])).ToArray();

    readonly ConsentNetwork network = new("erlangen", "munich")
    {
        // Not the breaker under test here: a site that fails is asked again on the next request.
        FanOut = new FanOutOptions { BreakerFailures = 1000 },
        Quota = new QuotaOptions { PerMinute = 10000, Per7Days = 10000 },
    };
    volatile string condition = "none";
    readonly List<SqliteConnection> limited = [];
    int queries;

    public async Task InitializeAsync()
    {
        foreach (var node in network.Nodes)
        {
            node.ImportFhir("women.json", ClinicalRecord.Bundle(Women));
            node.Approve(QueryTypes.CohortCount);
            node.Approve(QueryTypes.PatientSummary);
        }
        var erlangen = network["erlangen"];
        erlangen.OpenSession = () => condition switch
        {
            "read-only" => new SiteSession(SiteDatabase.Open(erlangen.DbPath, readOnly: true)),
            "full" => new SiteSession(Full(SiteDatabase.Open(erlangen.DbPath))),
            _ => new SiteSession(erlangen.DbPath),
        };
        await network.StartAllAsync();
    }

    public async Task DisposeAsync() => await network.DisposeAsync();

    [Theory]
    [InlineData("read-only", StatusCode.Unavailable, SiteStatus.Unavailable, "the site database is read-only")]
    [InlineData("full", StatusCode.ResourceExhausted, SiteStatus.Error, "the site database is full")]
    public async Task A_node_whose_database_cannot_be_written_says_so_loses_nothing_and_answers_again_when_the_condition_ends(
        string fault, StatusCode nodeStatus, SiteStatus siteStatus, string message)
    {
        var researcher = network.Client("researcher", "Dr Rita Researcher", null);
        var before = await Requests.CountAsync(researcher, Next());
        Assert.Equal(SiteStatus.Ok, before.Sites["erlangen"].Status);
        var committed = network["erlangen"].Rows("SELECT id, request_id, outcome FROM audit ORDER BY id");

        await network["erlangen"].StopAsync();
        condition = fault;
        await network["erlangen"].StartAsync();

        // Until a request needs the database to grow (full) or to write at all (read-only), the node answers;
        // the first one that cannot write its audit entry is refused with the fault, and so is every one after.
        var answered = new List<CountOutcome>();
        CountOutcome? failed = null;
        for (var i = 0; i < 400 && failed is null; i++)
        {
            var count = await Requests.CountAsync(researcher, Next());
            Assert.Equal(SiteStatus.Ok, count.Sites["munich"].Status);
            if (count.Sites["erlangen"].Status == SiteStatus.Ok) answered.Add(count);
            else failed = count;
        }
        Assert.NotNull(failed);
        Assert.Equal(siteStatus, failed.Sites["erlangen"].Status);
        Assert.Contains(message, failed.Sites["erlangen"].Message);
        Assert.NotNull(failed.Total);
        if (fault == "read-only") Assert.Empty(answered);

        // A clinician's request at the faulty node: refused with the status itself (read-only: always;
        // full: unless its few bytes still fit in a page the file already has).
        try
        {
            var summary = await Requests.SummaryAsync(
                network.Client("clinician", "Dr Clara Clinician", "erlangen", node: "erlangen"), network.Client("clinician", "Dr Clara Clinician", "erlangen"), "erlangen", "w1");
            Assert.Equal("full", fault);
            Assert.Contains(summary.Sites.Single(s => s.Site == "erlangen").Status, new[] { SiteStatus.Ok, siteStatus });
        }
        catch (RpcException refused)
        {
            Assert.Equal(nodeStatus, refused.StatusCode);
            Assert.Contains(message, refused.Status.Detail);
        }

        // The condition ends (space freed / the volume writable again) while the node runs.
        condition = "none";
        lock (limited)
            foreach (var connection in limited.Where(c => c.State == System.Data.ConnectionState.Open))
                SiteDatabase.Execute(connection, "PRAGMA max_page_count = 1073741823");
        var after = await Requests.CountAsync(researcher, Next());
        Assert.Equal(SiteStatus.Ok, after.Sites["erlangen"].Status);

        // Nothing committed was lost; every answer that left the node has exactly one audit entry; the refused one none.
        var rows = network["erlangen"].Rows("SELECT id, request_id, outcome FROM audit ORDER BY id");
        Assert.Equal(committed, rows.Take(committed.Count));
        var audit = Requests.AuditByRequest(network["erlangen"]);
        foreach (var count in answered.Prepend(before).Append(after))
            Assert.Equal(["answered"], audit[count.QueryId]);
        Assert.False(audit.ContainsKey(failed.QueryId));
        Assert.Equal(answered.Count + 2, network["erlangen"].Rows("SELECT COUNT(*) FROM research_use").Select(int.Parse).Single());
    }

    string Next() => Requests.BreastCancerQuery(Interlocked.Increment(ref queries));

    /// <summary>The database may not grow past its current size: SQLite's own "database or disk is full".</summary>
    SqliteConnection Full(SqliteConnection connection)
    {
        SiteDatabase.Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA page_count";
        var pages = Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        SiteDatabase.Execute(connection, $"PRAGMA max_page_count = {pages}");
        lock (limited) limited.Add(connection);
        return connection;
    }
}
