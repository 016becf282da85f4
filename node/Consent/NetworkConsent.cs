using System.Globalization;
using Microsoft.Data.Sqlite;
using Midia.Node.Linkage;
using Midia.Node.Store;
using Midia.Protos.Consent.V1;

namespace Midia.Node.Consent;

/// <summary>
/// This node's side of the network consent log, on one connection of its own: applies changes
/// from the coordinator (pushed or pulled) as consent_provision rows keyed by linkage — also for
/// people not known here yet — each seq once, and keeps the cursor of the highest seq held with
/// every lower one; reads and settles the outbox of `consent set`. Every write bumps through
/// <see cref="ConsentLedger.BumpForConsentChange"/>, so the next query honours it.
/// Thread-safe: the receiver and the submitter share it under one lock.
/// </summary>
public sealed class NetworkConsent(string dbPath, string siteId) : IDisposable
{
    const string Cursor = "consent_applied_seq";

    readonly Lock gate = new();
    readonly SqliteConnection connection = SiteDatabase.Open(dbPath);

    public string SiteId => siteId;

    /// <summary>The highest seq this node holds with every lower one.</summary>
    public long AppliedSeq()
    {
        lock (gate) return ReadCursor(null);
    }

    /// <summary>
    /// Stores the changes (any order; a seq already held is skipped), advances the cursor over
    /// every contiguous seq, all in one transaction. Gap = some change held lies past a missing one.
    /// </summary>
    public (long AppliedSeq, bool Gap) Apply(IEnumerable<ConsentChange> changes)
    {
        lock (gate)
        {
            var today = Days.Today();
            using var transaction = connection.BeginTransaction();
            var inserted = 0;
            long highest = 0;
            using (var insert = connection.CreateCommand())
            using (var settle = connection.CreateCommand())
            {
                insert.Transaction = transaction;
                insert.CommandText = """
                    INSERT OR IGNORE INTO consent_provision(pid, linkage, policy, permit, start, end, source, seq)
                    VALUES (NULL, $linkage, $policy, $permit, $start, $end, $source, $seq)
                    """;
                var p = (linkage: insert.Parameters.Add("$linkage", SqliteType.Text), policy: insert.Parameters.Add("$policy", SqliteType.Text),
                    permit: insert.Parameters.Add("$permit", SqliteType.Integer), start: insert.Parameters.Add("$start", SqliteType.Integer),
                    end: insert.Parameters.Add("$end", SqliteType.Integer), source: insert.Parameters.Add("$source", SqliteType.Text),
                    seq: insert.Parameters.Add("$seq", SqliteType.Integer));
                // A change of our own that comes back settles its outbox row, should the Submit reply have been lost.
                settle.Transaction = transaction;
                settle.CommandText = "UPDATE consent_change SET seq = $seq WHERE id = $id AND seq IS NULL AND policy = $policy AND permit = $permit";
                var settleSeq = settle.Parameters.Add("$seq", SqliteType.Integer);
                var settleId = settle.Parameters.Add("$id", SqliteType.Integer);
                var settlePolicy = settle.Parameters.Add("$policy", SqliteType.Text);
                var settlePermit = settle.Parameters.Add("$permit", SqliteType.Integer);
                foreach (var change in changes)
                {
                    if (change.Seq <= 0 || change.Linkage.Length == 0 || change.Policy.Length == 0) continue;
                    p.linkage.Value = change.Linkage;
                    p.policy.Value = change.Policy;
                    p.permit.Value = change.Permit ? 1 : 0;
                    p.start.Value = change.HasFromDay ? StartHere(change, today) : DBNull.Value;
                    p.end.Value = change.HasToDay ? change.ToDay : DBNull.Value;
                    p.source.Value = Source(change.OriginSite, change.OriginChangeId);
                    p.seq.Value = change.Seq;
                    inserted += insert.ExecuteNonQuery();
                    highest = Math.Max(highest, change.Seq);
                    if (change.OriginSite == siteId)
                    {
                        settleSeq.Value = change.Seq;
                        settleId.Value = change.OriginChangeId;
                        settlePolicy.Value = change.Policy;
                        settlePermit.Value = change.Permit ? 1 : 0;
                        inserted += settle.ExecuteNonQuery();
                    }
                }
            }
            var cursor = Advance(transaction);
            if (inserted > 0) ConsentLedger.BumpForConsentChange(connection, transaction);
            transaction.Commit();
            return (cursor, highest > cursor || HeldAbove(cursor));
        }
    }

    /// <summary>
    /// Clock skew between sites: `consent set` dates a change by the origin's calendar day, so a
    /// revocation made "today" at a site whose clock is ahead (or past midnight first) would start
    /// tomorrow here and leave the patient counted until then. A revocation starting at most one
    /// day ahead of this site's date is in force here at once; no site's clock can delay it. A
    /// permit keeps its date (a skewed clock can delay it by that day, never bring it forward).
    /// </summary>
    static int StartHere(ConsentChange change, int today) =>
        !change.Permit && change.FromDay > today && change.FromDay <= today + MaxClockSkewDays ? today : change.FromDay;

    /// <summary>How far ahead of this site's date a revocation's start is taken for clock skew, not for a planned date.</summary>
    public const int MaxClockSkewDays = 1;

    /// <summary>The outbox: `consent set` changes not yet in the coordinator's log, oldest first, with their linkage (computed when the patient had none).</summary>
    public List<ConsentChange> Unsent(LinkageKey key, int limit)
    {
        lock (gate)
        {
            var result = new List<ConsentChange>();
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT c.id, c.linkage, c.policy, c.permit, c.start, c.end, p.kvnr, p.family, p.given, p.birth_date, p.sex, p.linkage
                FROM consent_change c LEFT JOIN patient p ON p.pid = c.pid
                WHERE c.seq IS NULL ORDER BY c.id LIMIT $limit
                """;
            command.Parameters.AddWithValue("$limit", limit);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var linkage = Text(reader, 1) ?? Text(reader, 11)
                    ?? LinkagePseudonym.Of(key, Text(reader, 6), Text(reader, 7), Text(reader, 8), reader.IsDBNull(9) ? null : reader.GetInt32(9), Text(reader, 10));
                // A patient with nothing to link by cannot be named to other sites: the change stays local.
                if (linkage is null) continue;
                var change = new ConsentChange
                {
                    OriginSite = siteId, OriginChangeId = reader.GetInt64(0), Linkage = linkage,
                    Policy = reader.GetString(2), Permit = reader.GetInt64(3) != 0,
                };
                if (!reader.IsDBNull(4)) change.FromDay = reader.GetInt32(4);
                if (!reader.IsDBNull(5)) change.ToDay = reader.GetInt32(5);
                result.Add(change);
            }
            return result;
        }
    }

    /// <summary>
    /// The coordinator logged our changes (seqs in the same order): settle their outbox rows and
    /// hold them as the network rows they now are (in force at their place in the log).
    /// </summary>
    public void Logged(IReadOnlyList<ConsentChange> changes, IReadOnlyList<long> seqs)
    {
        var logged = new List<ConsentChange>(changes.Count);
        for (var i = 0; i < changes.Count; i++)
        {
            var change = changes[i].Clone();
            change.Seq = seqs[i];
            logged.Add(change);
        }
        lock (gate)
        {
            using var transaction = connection.BeginTransaction();
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = "UPDATE consent_change SET linkage = $linkage WHERE id = $id AND linkage IS NULL";
                var linkage = command.Parameters.Add("$linkage", SqliteType.Text);
                var id = command.Parameters.Add("$id", SqliteType.Integer);
                foreach (var change in logged)
                {
                    linkage.Value = change.Linkage;
                    id.Value = change.OriginChangeId;
                    command.ExecuteNonQuery();
                }
            }
            transaction.Commit();
        }
        // Apply settles the outbox rows (origin = this site) in the same transaction as the network rows.
        Apply(logged);
    }

    /// <summary>How many of the site's patients lack a linkage pseudonym are given one now.</summary>
    public int FillLinkage(LinkageKey key)
    {
        lock (gate) return LinkagePseudonym.FillMissing(connection, key);
    }

    public long DataVersion()
    {
        lock (gate) return SiteDatabase.DataVersion(connection);
    }

    public static string Source(string originSite, long originChangeId) =>
        $"consent set #{originChangeId.ToString(CultureInfo.InvariantCulture)} at {originSite}";

    long Advance(SqliteTransaction transaction)
    {
        var cursor = ReadCursor(transaction);
        var start = cursor;
        using (var next = connection.CreateCommand())
        {
            next.Transaction = transaction;
            // The run of consecutive seqs from the cursor on: seq - row_number is constant along it.
            next.CommandText = """
                SELECT IFNULL(MAX(seq), $cursor) FROM (
                  SELECT seq, seq - ROW_NUMBER() OVER (ORDER BY seq) AS run FROM consent_provision WHERE seq > $cursor
                ) WHERE run = $cursor
                """;
            next.Parameters.AddWithValue("$cursor", cursor);
            cursor = Convert.ToInt64(next.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
        if (cursor == start) return cursor;
        using var write = connection.CreateCommand();
        write.Transaction = transaction;
        write.CommandText = $"INSERT INTO meta(key, value) VALUES ('{Cursor}', $v) ON CONFLICT(key) DO UPDATE SET value = $v";
        write.Parameters.AddWithValue("$v", cursor.ToString(CultureInfo.InvariantCulture));
        write.ExecuteNonQuery();
        return cursor;
    }

    bool HeldAbove(long cursor)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM consent_provision WHERE seq > $c)";
        command.Parameters.AddWithValue("$c", cursor);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) != 0;
    }

    long ReadCursor(SqliteTransaction? transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT value FROM meta WHERE key = '{Cursor}'";
        return command.ExecuteScalar() is string s ? long.Parse(s, CultureInfo.InvariantCulture) : 0;
    }

    static string? Text(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

    public void Dispose()
    {
        lock (gate) connection.Dispose();
    }
}
