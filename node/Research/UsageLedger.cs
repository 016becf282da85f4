using System.Globalization;
using Microsoft.Data.Sqlite;
using Midia.Node.Audit;
using Midia.Node.Store;

namespace Midia.Node.Research;

/// <summary>One answered research query as the usage ledger keeps it; Patients is the compressed set it counted.</summary>
public sealed record ResearchUseEntry(long Id, DateTime Time, string? QueryId, string? Project, string? Question, string QueryType,
    string? QueryHash, string? Released, byte[] Patients);

/// <summary>
/// The usage ledger (issue 7): for every research query this site answered, one research_use row
/// with the project, the question (the CCDL display), the released result and the set of patients
/// actually counted — consented and matching — as one CompressedPatientSet blob, so a query over a
/// million patients writes one row, and a patient's report finds the queries that counted them by
/// testing one pid per row. Refused queries leave nothing here (the audit has them).
/// </summary>
public static class UsageLedger
{
    const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static void Record(SqliteConnection connection, string? queryId, string? project, string? question, string queryType,
        string? queryHash, string released, PatientSet counted)
    {
        var blob = CompressedPatientSet.Encode(counted);
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO research_use(time, query_id, project, question, query_type, query_hash, released, patients)
            VALUES ($time, $query, $project, $question, $type, $hash, $released, $patients)
            """;
        command.Parameters.AddWithValue("$time", DateTime.UtcNow.ToString(TimeFormat, CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$query", Blank(queryId));
        command.Parameters.AddWithValue("$project", Blank(project));
        command.Parameters.AddWithValue("$question", Blank(AuditText.Mask(question)));
        command.Parameters.AddWithValue("$type", queryType);
        command.Parameters.AddWithValue("$hash", Blank(queryHash));
        command.Parameters.AddWithValue("$released", released);
        command.Parameters.Add("$patients", SqliteType.Blob).Value = blob;
        command.ExecuteNonQuery();
    }

    /// <summary>Every research use that counted any of the pids, newest first.</summary>
    public static List<ResearchUseEntry> Counting(SqliteConnection connection, IReadOnlyCollection<long> pids)
    {
        var found = new List<ResearchUseEntry>();
        if (pids.Count == 0) return found;
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, time, query_id, project, question, query_type, query_hash, released, patients
            FROM research_use ORDER BY time DESC, id DESC
            """;
        using var reader = command.ExecuteReader();
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        while (reader.Read())
        {
            var blob = (byte[])reader.GetValue(8);
            if (!pids.Any(pid => CompressedPatientSet.Contains(blob, pid))) continue;
            found.Add(new ResearchUseEntry(reader.GetInt64(0),
                DateTime.ParseExact(reader.GetString(1), TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
                Text(2), Text(3), Text(4), reader.GetString(5), Text(6), Text(7), blob));
        }
        return found;
    }

    static object Blank(string? text) => string.IsNullOrEmpty(text) ? DBNull.Value : text;
}
