using System.Globalization;
using Microsoft.Data.Sqlite;
using Midia.Node.Store;

namespace Midia.Node.Policy;

/// <summary>The answer to "may this site answer that request": why not, when not.</summary>
public sealed record Decision(bool Allowed, string? Reason)
{
    public static readonly Decision Yes = new(true, null);
}

/// <summary>
/// The site admin's approvals per query type, optionally per project and until a day. Default deny.
/// Every check reads the database (one indexed lookup), so `admin approve` in another process takes
/// effect on the very next request; a refused request is remembered as pending for `admin list`.
/// </summary>
public sealed class QueryApproval(SqliteConnection connection)
{
    const string AllProjects = "";

    /// <summary>Allowed if a current approval covers (type, project); otherwise records the request and says why not.</summary>
    public Decision Check(string queryType, string? project, int day)
    {
        if (!QueryTypes.IsKnown(queryType)) return new Decision(false, $"unknown query type {queryType}");
        if (IsApproved(queryType, project ?? AllProjects, day)) return Decision.Yes;
        RecordRequest(queryType, project ?? AllProjects);
        return new Decision(false, $"query type {queryType} not approved by the site admin");
    }

    bool IsApproved(string queryType, string project, int day)
    {
        bool? specific = null, general = null;
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT project, approved, until FROM query_approval WHERE query_type = $t AND project IN ('', $p)";
        command.Parameters.AddWithValue("$t", queryType);
        command.Parameters.AddWithValue("$p", project);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            // Revoked: a denial. An expired approval: as if absent.
            bool? state = reader.GetInt64(1) == 0 ? false : reader.IsDBNull(2) || reader.GetInt64(2) >= day ? true : null;
            if (reader.GetString(0) == AllProjects) general = state;
            else specific = state;
        }
        // A project's own row speaks first: its revocation denies even under a general approval.
        return specific ?? general ?? false;
    }

    void RecordRequest(string queryType, string project)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO query_request(query_type, project, first_seen, last_seen, count) VALUES ($t, $p, $now, $now, 1)
            ON CONFLICT(query_type, project) DO UPDATE SET last_seen = $now, count = count + 1
            """;
        command.Parameters.AddWithValue("$t", queryType);
        command.Parameters.AddWithValue("$p", project);
        command.Parameters.AddWithValue("$now", Now());
        command.ExecuteNonQuery();
    }

    public void Approve(string queryType, string? project, int? until)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO query_approval(query_type, project, approved, until, changed) VALUES ($t, $p, 1, $u, $now)
            ON CONFLICT(query_type, project) DO UPDATE SET approved = 1, until = $u, changed = $now
            """;
        command.Parameters.AddWithValue("$t", queryType);
        command.Parameters.AddWithValue("$p", project ?? AllProjects);
        command.Parameters.AddWithValue("$u", (object?)until ?? DBNull.Value);
        command.Parameters.AddWithValue("$now", Now());
        command.ExecuteNonQuery();
    }

    /// <summary>Without a project: the type is denied for every project, including project approvals.</summary>
    public void Revoke(string queryType, string? project)
    {
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO query_approval(query_type, project, approved, until, changed) VALUES ($t, $p, 0, NULL, $now)
            ON CONFLICT(query_type, project) DO UPDATE SET approved = 0, until = NULL, changed = $now;
            UPDATE query_approval SET approved = 0, until = NULL, changed = $now WHERE query_type = $t AND $p = '' AND approved = 1;
            """;
        command.Parameters.AddWithValue("$t", queryType);
        command.Parameters.AddWithValue("$p", project ?? AllProjects);
        command.Parameters.AddWithValue("$now", Now());
        command.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <summary>What `admin list` shows: current approvals, requests still waiting for a decision, denials.</summary>
    public ApprovalOverview Overview(int day)
    {
        var approved = new List<ApprovalEntry>();
        var denied = new List<ApprovalEntry>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT query_type, project, approved, until, changed FROM query_approval ORDER BY query_type, project";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var project = reader.GetString(1) is "" ? null : reader.GetString(1);
                int? until = reader.IsDBNull(3) ? null : reader.GetInt32(3);
                var entry = new ApprovalEntry(reader.GetString(0), project, until, reader.GetString(4), null);
                if (reader.GetInt64(2) == 0) denied.Add(entry with { Note = "revoked" });
                else if (until < day) denied.Add(entry with { Note = $"expired after {DateFlag.Format(until)}" });
                else approved.Add(entry);
            }
        }
        var pending = new List<PendingRequest>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT query_type, project, first_seen, last_seen, count FROM query_request ORDER BY last_seen DESC";
            using var reader = command.ExecuteReader();
            while (reader.Read()) pending.Add(new PendingRequest(reader.GetString(0), reader.GetString(1) is "" ? null : reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4)));
        }
        // Pending: asked for, not approved now, and not explicitly refused by the admin (that is a denial).
        pending.RemoveAll(r => IsApproved(r.QueryType, r.Project ?? AllProjects, day)
            || denied.Any(d => d.Note == "revoked" && d.QueryType == r.QueryType && (d.Project == r.Project || d.Project is null)));
        return new ApprovalOverview(approved, pending, denied);
    }

    static string Now() => DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

/// <summary>An approval or a denial; Project null = every project.</summary>
public sealed record ApprovalEntry(string QueryType, string? Project, int? Until, string Changed, string? Note);

/// <summary>A refused request the admin has not decided on yet.</summary>
public sealed record PendingRequest(string QueryType, string? Project, string FirstSeen, string LastSeen, long Count);

public sealed record ApprovalOverview(IReadOnlyList<ApprovalEntry> Approved, IReadOnlyList<PendingRequest> Pending, IReadOnlyList<ApprovalEntry> Denied);
