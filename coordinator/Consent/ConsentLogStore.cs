using System.Globalization;
using Microsoft.Data.Sqlite;
using Midia.Protos.Consent.V1;

namespace Midia.Coordinator.Consent;

/// <summary>
/// The network consent log in the coordinator's SQLite file: append-only (triggers refuse update
/// and delete), each change once per (origin site, origin change id), numbered 1, 2, 3, ... with
/// no gaps (one writer under one lock, seq = max + 1), committed with synchronous=FULL before the
/// origin hears its seq. Beside it, the seq each site acknowledged, so pushing resumes after a
/// restart. Holds pseudonyms only: never a KVNR, name or birth date.
/// </summary>
public sealed class ConsentLogStore : IDisposable
{
    const string Schema = """
        CREATE TABLE IF NOT EXISTS consent_log (
          seq              INTEGER PRIMARY KEY,
          origin_site      TEXT NOT NULL,
          origin_change_id INTEGER NOT NULL,
          linkage          TEXT NOT NULL,
          policy           TEXT NOT NULL,
          permit           INTEGER NOT NULL,
          start            INTEGER,
          end              INTEGER,
          received         TEXT NOT NULL,
          UNIQUE (origin_site, origin_change_id)
        );
        CREATE TRIGGER IF NOT EXISTS consent_log_no_update BEFORE UPDATE ON consent_log
          BEGIN SELECT RAISE(ABORT, 'the consent log is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS consent_log_no_delete BEFORE DELETE ON consent_log
          BEGIN SELECT RAISE(ABORT, 'the consent log is append-only'); END;
        CREATE TABLE IF NOT EXISTS consent_ack (site TEXT PRIMARY KEY, seq INTEGER NOT NULL, at TEXT NOT NULL) WITHOUT ROWID;
        -- Every advance of a site's acknowledgement, so a patient can see when their change reached each site.
        CREATE TABLE IF NOT EXISTS consent_ack_step (site TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, PRIMARY KEY (site, seq)) WITHOUT ROWID;
        """;

    readonly Lock gate = new();
    readonly SqliteConnection connection;
    long lastSeq;

    ConsentLogStore(SqliteConnection connection)
    {
        this.connection = connection;
        lastSeq = Scalar("SELECT IFNULL(MAX(seq), 0) FROM consent_log");
    }

    public static ConsentLogStore Open(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
        Execute(connection, Schema);
        return new ConsentLogStore(connection);
    }

    public long LastSeq => Interlocked.Read(ref lastSeq);

    /// <summary>
    /// Appends the changes in order in one transaction (one fsync), each unless (origin, origin id)
    /// is already logged. Per change its seq and whether it was a duplicate.
    /// </summary>
    public List<(long Seq, bool Duplicate)> Append(IReadOnlyList<ConsentChange> changes)
    {
        lock (gate)
        {
            var result = new List<(long, bool)>(changes.Count);
            using var transaction = connection.BeginTransaction();
            using var find = connection.CreateCommand();
            find.Transaction = transaction;
            find.CommandText = "SELECT seq FROM consent_log WHERE origin_site = $o AND origin_change_id = $i";
            var findOrigin = find.Parameters.Add("$o", SqliteType.Text);
            var findId = find.Parameters.Add("$i", SqliteType.Integer);
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO consent_log(seq, origin_site, origin_change_id, linkage, policy, permit, start, end, received)
                VALUES ($seq, $o, $i, $linkage, $policy, $permit, $start, $end, $received)
                """;
            var p = (seq: insert.Parameters.Add("$seq", SqliteType.Integer), origin: insert.Parameters.Add("$o", SqliteType.Text),
                id: insert.Parameters.Add("$i", SqliteType.Integer), linkage: insert.Parameters.Add("$linkage", SqliteType.Text),
                policy: insert.Parameters.Add("$policy", SqliteType.Text), permit: insert.Parameters.Add("$permit", SqliteType.Integer),
                start: insert.Parameters.Add("$start", SqliteType.Integer), end: insert.Parameters.Add("$end", SqliteType.Integer),
                received: insert.Parameters.Add("$received", SqliteType.Text));
            var next = lastSeq;
            var now = Now();
            foreach (var change in changes)
            {
                findOrigin.Value = change.OriginSite;
                findId.Value = change.OriginChangeId;
                if (find.ExecuteScalar() is long existing)
                {
                    result.Add((existing, true));
                    continue;
                }
                next++;
                p.seq.Value = next;
                p.origin.Value = change.OriginSite;
                p.id.Value = change.OriginChangeId;
                p.linkage.Value = change.Linkage;
                p.policy.Value = change.Policy;
                p.permit.Value = change.Permit ? 1 : 0;
                p.start.Value = change.HasFromDay ? change.FromDay : DBNull.Value;
                p.end.Value = change.HasToDay ? change.ToDay : DBNull.Value;
                p.received.Value = now;
                insert.ExecuteNonQuery();
                result.Add((next, false));
            }
            transaction.Commit();
            Interlocked.Exchange(ref lastSeq, next);
            return result;
        }
    }

    /// <summary>Up to limit changes with seq > after, in seq order.</summary>
    public List<ConsentChange> After(long after, int limit)
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT seq, origin_site, origin_change_id, linkage, policy, permit, start, end
                FROM consent_log WHERE seq > $after ORDER BY seq LIMIT $limit
                """;
            command.Parameters.AddWithValue("$after", after);
            command.Parameters.AddWithValue("$limit", limit);
            using var reader = command.ExecuteReader();
            var result = new List<ConsentChange>();
            while (reader.Read())
            {
                var change = new ConsentChange
                {
                    Seq = reader.GetInt64(0), OriginSite = reader.GetString(1), OriginChangeId = reader.GetInt64(2),
                    Linkage = reader.GetString(3), Policy = reader.GetString(4), Permit = reader.GetInt64(5) != 0,
                };
                if (!reader.IsDBNull(6)) change.FromDay = reader.GetInt32(6);
                if (!reader.IsDBNull(7)) change.ToDay = reader.GetInt32(7);
                result.Add(change);
            }
            return result;
        }
    }

    /// <summary>The seq the site last acknowledged (it holds every change up to it); 0 when never.</summary>
    public long Acknowledged(string site)
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT seq FROM consent_ack WHERE site = $s";
            command.Parameters.AddWithValue("$s", site);
            return command.ExecuteScalar() is long seq ? seq : 0;
        }
    }

    /// <summary>What the node said it holds is the truth (a node restored from a backup may go back).</summary>
    public void Acknowledge(string site, long seq)
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO consent_ack(site, seq, at) VALUES ($s, $seq, $at) ON CONFLICT(site) DO UPDATE SET seq = $seq, at = $at;
                INSERT OR IGNORE INTO consent_ack_step(site, seq, at) VALUES ($s, $seq, $at);
                """;
            command.Parameters.AddWithValue("$s", site);
            command.Parameters.AddWithValue("$seq", seq);
            command.Parameters.AddWithValue("$at", Now());
            command.ExecuteNonQuery();
        }
    }

    /// <summary>When the site first acknowledged seq or a later one; null when it has not (yet).</summary>
    public string? AppliedAt(string site, long seq)
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT MIN(at) FROM consent_ack_step WHERE site = $s AND seq >= $seq";
            command.Parameters.AddWithValue("$s", site);
            command.Parameters.AddWithValue("$seq", seq);
            return command.ExecuteScalar() as string;
        }
    }

    static string Now() => DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    long Scalar(string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        lock (gate) connection.Dispose();
    }
}
