using Microsoft.Data.Sqlite;
using Midia.Node.Audit;
using Midia.Node.Tests.Policy;
using Xunit;

namespace Midia.Node.Tests.Audit;

public sealed class AuditLogTests
{
    [Fact]
    public void EntriesComeBackAsWrittenOldestFirst()
    {
        using var site = new ScratchSite();
        var log = new AuditLog(site.Connection);
        var t0 = new DateTime(2026, 3, 1, 10, 0, 0, DateTimeKind.Utc);
        var answered = new AuditEntry(t0, "Dr. Weber", "researcher", "P1", "cohort-count", "abc123", AuditOutcome.Answered, null, "≈140: discrete Laplace noise (epsilon 0.5), rounded to 10");
        var refused = new AuditEntry(t0.AddMinutes(1), "Dr. Weber", "researcher", "P2", "stratified-count", "def456", AuditOutcome.Refused, "query type stratified-count not approved by the site admin", null);
        log.Record(refused);
        log.Record(answered);
        Assert.Equal([answered, refused], log.Read());
        Assert.Equal([refused], log.Read(t0.AddSeconds(30)));
    }

    [Fact]
    public void TheAuditRefusesEveryUpdateAndDelete()
    {
        using var site = new ScratchSite();
        new AuditLog(site.Connection).Failed("u", "researcher", null, "cohort-count", "h", "engine failure");
        var update = Assert.Throws<SqliteException>(() => site.Sql("UPDATE audit SET outcome = 'answered'"));
        Assert.Contains("append-only", update.Message);
        var delete = Assert.Throws<SqliteException>(() => site.Sql("DELETE FROM audit"));
        Assert.Contains("append-only", delete.Message);
        Assert.Equal(AuditOutcome.Error, Assert.Single(new AuditLog(site.Connection).Read()).Outcome);
    }

    [Fact]
    public void TheAuditHasNoPlaceForAPatientIdentifier()
    {
        using var site = new ScratchSite();
        using var command = site.Connection.CreateCommand();
        command.CommandText = "SELECT name FROM pragma_table_info('audit')";
        var columns = new List<string>();
        using (var reader = command.ExecuteReader()) while (reader.Read()) columns.Add(reader.GetString(0));
        // request_id is the coordinator's id of the request (a query or summary), never about a person.
        Assert.Equal(["id", "time", "user_name", "user_role", "project", "query_type", "query_hash", "outcome", "reason", "released", "request_id"], columns);
    }

    [Fact]
    public void AnAuditTableFromBeforeRequestIdsGainsTheColumnAndKeepsItsRows()
    {
        var folder = Directory.CreateTempSubdirectory("midia-audit-upgrade-").FullName;
        var path = Path.Combine(folder, "site.db");
        try
        {
            using (var old = new SqliteConnection($"Data Source={path};Pooling=False"))
            {
                old.Open();
                using var create = old.CreateCommand();
                create.CommandText = """
                    CREATE TABLE audit (id INTEGER PRIMARY KEY, time TEXT NOT NULL, user_name TEXT, user_role TEXT, project TEXT,
                      query_type TEXT NOT NULL, query_hash TEXT, outcome TEXT NOT NULL, reason TEXT, released TEXT);
                    INSERT INTO audit(time, user_name, query_type, outcome) VALUES ('2026-01-05T09:00:00.000Z', 'Dr. A', 'cohort-count', 'answered');
                    """;
                create.ExecuteNonQuery();
            }
            using var connection = Midia.Node.Store.SiteDatabase.Open(path);
            var log = new AuditLog(connection);
            log.Answered("Dr. B", "researcher", null, "cohort-count", "h", "≈10", requestId: "q-2");
            var entries = log.Read();
            Assert.Equal([("Dr. A", (string?)null), ("Dr. B", "q-2")], entries.Select(e => (e.UserName!, e.RequestId)));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public void AnythingShapedLikeAKvnrIsMaskedBeforeItIsWritten()
    {
        using var site = new ScratchSite();
        new AuditLog(site.Connection).Failed("u", "researcher", "P1", "patient-summary", "h", "no patient A123456789 here; see X12345678 and B1234567890");
        var reason = Assert.Single(new AuditLog(site.Connection).Read()).Reason;
        Assert.Equal("no patient [identifier removed] here; see X12345678 and B1234567890", reason);
    }
}
