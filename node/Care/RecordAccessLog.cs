using System.Globalization;
using Microsoft.Data.Sqlite;
using Midia.Node.Audit;

namespace Midia.Node.Care;

/// <summary>
/// The record_access table: every time a patient's record was asked for, by whom and with what
/// outcome — what the patient's transparency report lists. Append-only (schema triggers).
/// </summary>
public static class RecordAccessLog
{
    public const string Released = "released";
    public const string Refused = "refused";

    public static void Record(SqliteConnection connection, long pid, string? userName, string? userRole, string? userSite,
        string purpose, string outcome, string detail)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO record_access(time, pid, user_name, user_role, user_site, purpose, outcome, detail)
            VALUES ($time, $pid, $name, $role, $site, $purpose, $outcome, $detail)
            """;
        command.Parameters.AddWithValue("$time", DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$pid", pid);
        command.Parameters.AddWithValue("$name", (object?)AuditText.Mask(userName) ?? DBNull.Value);
        command.Parameters.AddWithValue("$role", (object?)userRole ?? DBNull.Value);
        command.Parameters.AddWithValue("$site", (object?)userSite ?? DBNull.Value);
        command.Parameters.AddWithValue("$purpose", purpose);
        command.Parameters.AddWithValue("$outcome", outcome);
        command.Parameters.AddWithValue("$detail", detail);
        command.ExecuteNonQuery();
    }
}
