using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Midia.Coordinator.Research;
using Midia.Protos.Coordinator.V1;

namespace Midia.Coordinator.History;

/// <summary>
/// The coordinator's own SQLite database (--db): every federated query (who, project, the query
/// text and its hash, when), each site's released numbers and status, and the total. It holds
/// only what the sites released — never patient-level data — and is the researcher's history,
/// the source of their quota and of replayed identical queries.
/// </summary>
public sealed class QueryHistory
{
    const string Schema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS query (
            id          TEXT PRIMARY KEY,
            researcher  TEXT NOT NULL,
            project     TEXT NOT NULL,
            query_type  TEXT NOT NULL,
            query_hash  TEXT NOT NULL,
            ccdl_json   TEXT NOT NULL,
            stratify_by TEXT NOT NULL,
            asked_at    INTEGER NOT NULL,          -- unix ms
            total_value INTEGER,                   -- readable copy of the total; NULL when not shown
            total       BLOB,                      -- CountTotal (protobuf); NULL while running
            replays     INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX IF NOT EXISTS query_by_researcher ON query (researcher, asked_at);
        CREATE INDEX IF NOT EXISTS query_by_hash ON query (researcher, query_hash, asked_at);
        CREATE TABLE IF NOT EXISTS site_result (
            query_id    TEXT NOT NULL REFERENCES query (id),
            position    INTEGER NOT NULL,          -- arrival order
            site        TEXT NOT NULL,
            status      TEXT NOT NULL,
            value       INTEGER,                   -- readable copy of the released count
            message     TEXT NOT NULL,
            result      BLOB NOT NULL,             -- SiteResult (protobuf)
            PRIMARY KEY (query_id, site)
        );
        """;

    readonly string connectionString;

    QueryHistory(string connectionString) => this.connectionString = connectionString;

    public static QueryHistory Open(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        var history = new QueryHistory(new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString());
        using var connection = history.Connect();
        Execute(connection, Schema);
        return history;
    }

    public void Begin(string queryId, string researcher, CountQuery query, DateTimeOffset askedAt)
    {
        using var connection = Connect();
        Execute(connection, """
            INSERT INTO query (id, researcher, project, query_type, query_hash, ccdl_json, stratify_by, asked_at)
            VALUES ($id, $researcher, $project, $type, $hash, $ccdl, $stratify, $at)
            """, ("$id", queryId), ("$researcher", researcher), ("$project", query.Project), ("$type", query.QueryType),
            ("$hash", query.Hash), ("$ccdl", query.CcdlJson), ("$stratify", string.Join(",", query.StratifyBy)), ("$at", askedAt.ToUnixTimeMilliseconds()));
    }

    /// <summary>Stores the sites' results (in arrival order) and the total in one transaction: one commit per query.</summary>
    public void Complete(string queryId, IReadOnlyList<SiteResult> sites, CountTotal total)
    {
        using var connection = Connect();
        using var transaction = connection.BeginTransaction();
        for (var position = 0; position < sites.Count; position++)
        {
            var result = sites[position];
            Execute(connection, """
                INSERT OR REPLACE INTO site_result (query_id, position, site, status, value, message, result)
                VALUES ($id, $position, $site, $status, $value, $message, $result)
                """, ("$id", queryId), ("$position", position), ("$site", result.Site), ("$status", result.Status.Word()),
                ("$value", result.Count is { HasValue: true } c ? c.Value : null), ("$message", result.Message), ("$result", result.ToByteArray()));
        }
        Execute(connection, "UPDATE query SET total = $total, total_value = $value WHERE id = $id",
            ("$id", queryId), ("$total", total.ToByteArray()), ("$value", total.HasValue ? total.Value : null));
        transaction.Commit();
    }

    /// <summary>
    /// The newest completed identical query by this researcher since <paramref name="since"/> whose
    /// every site gave a definitive answer (a timeout or an unreachable site is worth asking again).
    /// </summary>
    public HistoryEntry? FindReplayable(string researcher, string queryHash, DateTimeOffset since)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id FROM query q
            WHERE researcher = $researcher AND query_hash = $hash AND asked_at >= $since AND total IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM site_result s WHERE s.query_id = q.id AND s.status IN ('timeout', 'unavailable', 'error'))
            ORDER BY asked_at DESC LIMIT 1
            """;
        command.Parameters.AddWithValue("$researcher", researcher);
        command.Parameters.AddWithValue("$hash", queryHash);
        command.Parameters.AddWithValue("$since", since.ToUnixTimeMilliseconds());
        return command.ExecuteScalar() is string id ? Entries(connection, "q.id = $id", ("$id", id), 1).FirstOrDefault() : null;
    }

    public void RecordReplay(string queryId)
    {
        using var connection = Connect();
        Execute(connection, "UPDATE query SET replays = replays + 1 WHERE id = $id", ("$id", queryId));
    }

    /// <summary>When this researcher asked the queries that went out to the sites since <paramref name="since"/>, oldest first.</summary>
    public IReadOnlyList<DateTimeOffset> AskedSince(string researcher, DateTimeOffset since)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT asked_at FROM query WHERE researcher = $researcher AND asked_at >= $since ORDER BY asked_at";
        command.Parameters.AddWithValue("$researcher", researcher);
        command.Parameters.AddWithValue("$since", since.ToUnixTimeMilliseconds());
        using var reader = command.ExecuteReader();
        var times = new List<DateTimeOffset>();
        while (reader.Read()) times.Add(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)));
        return times;
    }

    public IReadOnlyList<HistoryEntry> Recent(string researcher, int limit)
    {
        using var connection = Connect();
        return Entries(connection, "q.researcher = $researcher", ("$researcher", researcher), limit);
    }

    static List<HistoryEntry> Entries(SqliteConnection connection, string where, (string, object) parameter, int limit)
    {
        var entries = new List<HistoryEntry>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"""
                SELECT id, asked_at, project, query_type, query_hash, stratify_by, total, replays, ccdl_json
                FROM query q WHERE {where} ORDER BY asked_at DESC, rowid DESC LIMIT $limit
                """;
            command.Parameters.AddWithValue(parameter.Item1, parameter.Item2);
            command.Parameters.AddWithValue("$limit", limit);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var entry = new HistoryEntry
                {
                    QueryId = reader.GetString(0),
                    AskedAtUnixMs = reader.GetInt64(1),
                    Project = reader.GetString(2),
                    QueryType = reader.GetString(3),
                    QueryHash = reader.GetString(4),
                    Total = reader.IsDBNull(6) ? null : CountTotal.Parser.ParseFrom((byte[])reader[6]),
                    Replays = reader.GetInt32(7),
                    CcdlJson = reader.GetString(8),
                };
                entry.StratifyBy.AddRange(reader.GetString(5).Split(',', StringSplitOptions.RemoveEmptyEntries));
                entries.Add(entry);
            }
        }
        foreach (var entry in entries)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT result FROM site_result WHERE query_id = $id ORDER BY position";
            command.Parameters.AddWithValue("$id", entry.QueryId);
            using var reader = command.ExecuteReader();
            while (reader.Read()) entry.Sites.Add(SiteResult.Parser.ParseFrom((byte[])reader[0]));
        }
        return entries;
    }

    SqliteConnection Connect()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        // WAL with NORMAL sync: a crash of the process loses nothing; a power cut may lose the last queries' history.
        Execute(connection, "PRAGMA synchronous = NORMAL");
        return connection;
    }

    static void Execute(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        command.ExecuteNonQuery();
    }
}
