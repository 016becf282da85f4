using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Midia.Node.Audit;

/// <summary>How a request ended.</summary>
public static class AuditOutcome
{
    public const string Answered = "answered";
    public const string Refused = "refused";
    public const string Error = "error";
}

/// <summary>
/// One request as the audit keeps it. There is deliberately no field for a patient: the audit
/// says who asked what and what left the node, never about whom.
/// </summary>
public sealed record AuditEntry(
    DateTime Time, string? UserName, string? UserRole, string? Project, string QueryType, string? QueryHash,
    string Outcome, string? Reason, string? Released, string? RequestId = null);

/// <summary>
/// The site's append-only audit log. Triggers in the schema make SQLite refuse every UPDATE and
/// DELETE, so not even a careless admin script can rewrite history.
/// </summary>
public sealed class AuditLog(SqliteConnection connection)
{
    const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public void Answered(string? user, string? role, string? project, string queryType, string? queryHash, string released, string? requestId = null) =>
        Record(new AuditEntry(DateTime.UtcNow, user, role, project, queryType, queryHash, AuditOutcome.Answered, null, released, requestId));

    public void Refused(string? user, string? role, string? project, string queryType, string? queryHash, string reason, string? requestId = null) =>
        Record(new AuditEntry(DateTime.UtcNow, user, role, project, queryType, queryHash, AuditOutcome.Refused, reason, null, requestId));

    public void Failed(string? user, string? role, string? project, string queryType, string? queryHash, string reason, string? requestId = null) =>
        Record(new AuditEntry(DateTime.UtcNow, user, role, project, queryType, queryHash, AuditOutcome.Error, reason, null, requestId));

    public void Record(AuditEntry entry)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO audit(time, user_name, user_role, project, query_type, query_hash, outcome, reason, released, request_id)
            VALUES ($time, $user, $role, $project, $type, $hash, $outcome, $reason, $released, $request)
            """;
        command.Parameters.AddWithValue("$time", entry.Time.ToUniversalTime().ToString(TimeFormat, CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$user", (object?)AuditText.Mask(entry.UserName) ?? DBNull.Value);
        command.Parameters.AddWithValue("$role", (object?)AuditText.Mask(entry.UserRole) ?? DBNull.Value);
        command.Parameters.AddWithValue("$project", (object?)AuditText.Mask(entry.Project) ?? DBNull.Value);
        command.Parameters.AddWithValue("$type", entry.QueryType);
        command.Parameters.AddWithValue("$hash", (object?)AuditText.Mask(entry.QueryHash) ?? DBNull.Value);
        command.Parameters.AddWithValue("$outcome", entry.Outcome);
        command.Parameters.AddWithValue("$reason", (object?)AuditText.Mask(entry.Reason) ?? DBNull.Value);
        command.Parameters.AddWithValue("$released", (object?)AuditText.Mask(entry.Released) ?? DBNull.Value);
        command.Parameters.AddWithValue("$request", string.IsNullOrEmpty(entry.RequestId) ? DBNull.Value : (object?)AuditText.Mask(entry.RequestId) ?? DBNull.Value);
        command.ExecuteNonQuery();
    }

    /// <summary>Entries at or after the given UTC time, oldest first.</summary>
    public IReadOnlyList<AuditEntry> Read(DateTime? since = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT time, user_name, user_role, project, query_type, query_hash, outcome, reason, released, request_id
            FROM audit WHERE time >= $since ORDER BY time, id
            """;
        command.Parameters.AddWithValue("$since", since is null ? "" : since.Value.ToUniversalTime().ToString(TimeFormat, CultureInfo.InvariantCulture));
        using var reader = command.ExecuteReader();
        var entries = new List<AuditEntry>();
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        while (reader.Read())
            entries.Add(new AuditEntry(
                DateTime.ParseExact(reader.GetString(0), TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
                Text(1), Text(2), Text(3), reader.GetString(4), Text(5), reader.GetString(6), Text(7), Text(8), Text(9)));
        return entries;
    }
}
