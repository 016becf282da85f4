using System.Globalization;
using Microsoft.Data.Sqlite;
using Midia.Node.Store;

namespace Midia.Node.Consent;

/// <summary>
/// The site's consent state: its own Consent documents (rows with pid, seq NULL) merged by the MII
/// rule, with network changes (rows with linkage and seq) and this site's not-yet-logged
/// `consent set` changes (consent_change, seq NULL) on top, later wins. See ConsentRule.
/// Site-wide sets are cached per (policy, day, data version). The documents part (a million rows
/// at a large site) is kept across data versions as long as every bump since was a consent
/// change made through <see cref="BumpForConsentChange"/>: a revocation costs the next query
/// only the small network overlay, not a full recomputation.
/// Thread-safe: every use of the connection is under one lock, so one long-lived ledger (with its
/// own connection) can serve concurrent requests and keep its cache.
/// </summary>
public sealed class ConsentLedger(SqliteConnection connection)
{
    const string ConsentBumps = "consent_change_bumps";

    readonly Lock gate = new();
    readonly Dictionary<(string Policy, int Day), (PatientSet Set, long MaxPid)> documents = [];
    readonly Dictionary<(string Policy, int Day), PatientSet> permitted = [];
    long cachedVersion = -1, documentsVersion = -1, documentsBumps = -1;

    /// <summary>
    /// Bumps the data version for a change to network or desk consent only (no document, no
    /// patient): what `consent set` and the network consent sync call in their transaction.
    /// </summary>
    public static void BumpForConsentChange(SqliteConnection connection, SqliteTransaction? transaction)
    {
        SiteDatabase.BumpDataVersion(connection, transaction);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            INSERT INTO meta(key, value) VALUES ('{ConsentBumps}', '1')
            ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1
            """;
        command.ExecuteNonQuery();
    }

    /// <summary>Every patient of the site for whom the policy is permitted at the day. The caller owns the set.</summary>
    public PatientSet Permitted(string policy, int day)
    {
        lock (gate)
        {
            var (version, bumps) = Versions();
            if (version != cachedVersion)
            {
                permitted.Clear();
                // Only consent changes since the documents were read: they still hold.
                if (documentsVersion < 0 || version - documentsVersion != bumps - documentsBumps || documents.Count >= 32)
                {
                    documents.Clear();
                    (documentsVersion, documentsBumps) = (version, bumps);
                }
                cachedVersion = version;
            }
            if (!permitted.TryGetValue((policy, day), out var set))
            {
                if (!documents.TryGetValue((policy, day), out var local))
                    documents[(policy, day)] = local = Documents(policy, day);
                if (permitted.Count >= 32) permitted.Clear();
                permitted[(policy, day)] = set = WithChanges(local.Set, local.MaxPid, policy, day);
            }
            return set.Clone();
        }
    }

    (long Version, long Bumps) Versions()
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT key, value FROM meta WHERE key IN ('data_version', '{ConsentBumps}')";
        using var reader = command.ExecuteReader();
        long version = 0, bumps = 0;
        while (reader.Read())
        {
            var value = long.Parse(reader.GetString(1), CultureInfo.InvariantCulture);
            if (reader.GetString(0) == ConsentBumps) bumps = value;
            else version = value;
        }
        return (version, bumps);
    }

    /// <summary>The MII rule over the site's own documents: some permit covers the day, no deny does.</summary>
    (PatientSet Set, long MaxPid) Documents(string policy, int day)
    {
        var maxPid = Scalar("SELECT IFNULL(MAX(pid), 0) FROM patient");
        PatientSet permits = new(maxPid), denies = new(maxPid);
        using (var command = Command("""
            SELECT pid, permit FROM consent_provision
            WHERE policy = $policy AND seq IS NULL AND pid IS NOT NULL
              AND (start IS NULL OR start <= $day) AND (end IS NULL OR end >= $day)
            """, policy, day))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
            {
                var pid = reader.GetInt64(0);
                if (pid <= maxPid) (reader.GetInt64(1) != 0 ? permits : denies).Add(pid);
            }
        permits.ExceptWith(denies);
        return (permits, maxPid);
    }

    /// <summary>Network changes, then pending desk changes, each in order: the last one covering the day wins.</summary>
    PatientSet WithChanges(PatientSet documentsPermitted, long maxPid, string policy, int day)
    {
        var latest = new Dictionary<long, bool>();
        foreach (var sql in new[]
        {
            """
            SELECT p.pid, c.permit FROM consent_provision c JOIN patient p ON p.linkage = c.linkage
            WHERE c.policy = $policy AND c.seq IS NOT NULL AND c.linkage IS NOT NULL
              AND (c.start IS NULL OR c.start <= $day) AND (c.end IS NULL OR c.end >= $day)
            ORDER BY c.seq
            """,
            """
            SELECT pid, permit FROM consent_change
            WHERE policy = $policy AND seq IS NULL
              AND (start IS NULL OR start <= $day) AND (end IS NULL OR end >= $day)
            ORDER BY id
            """,
        })
        {
            using var command = Command(sql, policy, day);
            using var reader = command.ExecuteReader();
            while (reader.Read()) latest[reader.GetInt64(0)] = reader.GetInt64(1) != 0;
        }
        PatientSet result = documentsPermitted.Clone(), denied = new(maxPid);
        foreach (var (pid, permit) in latest)
            if (pid <= maxPid && permit) result.Add(pid);
            else if (pid <= maxPid) denied.Add(pid);
        result.ExceptWith(denied);
        return result;
    }

    public bool IsPermitted(long pid, string policy, int day) =>
        ConsentRule.IsPermitted(Provisions(pid).Where(p => p.Policy == policy), day);

    /// <summary>Every provision that bears on the patient, of every policy.</summary>
    public IReadOnlyList<ConsentProvision> Provisions(long pid)
    {
        lock (gate) return ReadProvisions(pid);
    }

    List<ConsentProvision> ReadProvisions(long pid)
    {
        var result = new List<ConsentProvision>();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT policy, permit, start, end, seq, source, 0 FROM consent_provision WHERE pid = $pid AND seq IS NULL
            UNION ALL
            SELECT c.policy, c.permit, c.start, c.end, c.seq, c.source, 1 FROM consent_provision c
              JOIN patient p ON p.linkage = c.linkage WHERE p.pid = $pid AND c.seq IS NOT NULL
            UNION ALL
            SELECT policy, permit, start, end, id, 'consent set #' || id || ' at this site, ' || created, 2 FROM consent_change
              WHERE pid = $pid AND seq IS NULL
            """;
        command.Parameters.AddWithValue("$pid", pid);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var origin = (ConsentOrigin)reader.GetInt32(6);
            result.Add(new ConsentProvision(
                reader.GetString(0), reader.GetInt64(1) != 0,
                reader.IsDBNull(2) ? null : reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetInt32(3),
                origin, reader.IsDBNull(4) ? 0 : reader.GetInt64(4), reader.GetString(5)));
        }
        return result;
    }

    /// <summary>Per policy, the effective periods and which provisions decide each — for `consent show`.</summary>
    public ConsentExplanation Explain(long pid, int day)
    {
        var provisions = Provisions(pid);
        var policies = ConsentPolicies.Headline.Concat(provisions.Select(p => p.Policy).Distinct().Order(StringComparer.Ordinal)).Distinct();
        return new ConsentExplanation(pid, day, [.. policies.Select(policy => ExplainPolicy(policy, [.. provisions.Where(p => p.Policy == policy)], day))]);
    }

    static PolicyConsent ExplainPolicy(string policy, IReadOnlyList<ConsentProvision> provisions, int day)
    {
        // The state can only change where a provision starts or just after one ends.
        var cuts = provisions.SelectMany(p => new long?[] { p.Start, p.End + 1L }).OfType<long>().Distinct().Order().ToList();
        var periods = new List<ConsentPeriod>();
        for (int i = 0; i <= cuts.Count; i++)
        {
            long? from = i == 0 ? null : cuts[i - 1];
            long? to = i == cuts.Count ? null : cuts[i] - 1;
            var probe = from ?? to ?? 0;
            var (permitted, because) = ConsentRule.Decide(provisions, probe);
            var sources = because.Count == 0 ? ["no provision (default deny)"] : because.Select(Describe).ToList();
            if (periods.Count > 0 && periods[^1].Permitted == permitted && periods[^1].Because.SequenceEqual(sources))
                periods[^1] = periods[^1] with { To = to };
            else
                periods.Add(new ConsentPeriod(from, to, permitted, sources));
        }
        return new PolicyConsent(policy, ConsentPolicies.Name(policy), ConsentRule.IsPermitted(provisions, day), periods, provisions);
    }

    static string Describe(ConsentProvision p) => p.Origin switch
    {
        ConsentOrigin.Document => $"{(p.Permit ? "permit" : "deny")} in {p.Source}",
        ConsentOrigin.Network => $"network {(p.Permit ? "permit" : "deny")} (seq {p.Order}, {p.Source})",
        _ => $"{(p.Permit ? "permit" : "deny")} by {p.Source}",
    };

    /// <summary>
    /// Records a `consent set` in the outbox and bumps the data version, in one transaction: in
    /// force here at once, and waiting for the network submitter (issue 5).
    /// </summary>
    public long Record(long pid, string policy, bool permit, int? start, int? end)
    {
        lock (gate) return RecordChange(pid, policy, permit, start, end);
    }

    long RecordChange(long pid, string policy, bool permit, int? start, int? end)
    {
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO consent_change(pid, linkage, policy, permit, start, end, created)
            SELECT pid, linkage, $policy, $permit, $start, $end, $created FROM patient WHERE pid = $pid
            RETURNING id
            """;
        command.Parameters.AddWithValue("$pid", pid);
        command.Parameters.AddWithValue("$policy", policy);
        command.Parameters.AddWithValue("$permit", permit ? 1 : 0);
        command.Parameters.AddWithValue("$start", (object?)start ?? DBNull.Value);
        command.Parameters.AddWithValue("$end", (object?)end ?? DBNull.Value);
        command.Parameters.AddWithValue("$created", DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        var id = command.ExecuteScalar() is long l ? l : throw new InvalidOperationException($"patient {pid} does not exist");
        BumpForConsentChange(connection, transaction);
        transaction.Commit();
        return id;
    }

    SqliteCommand Command(string sql, string policy, int day)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$policy", policy);
        command.Parameters.AddWithValue("$day", day);
        return command;
    }

    long Scalar(string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}

/// <summary>One patient's consent, per policy, as `consent show` prints it.</summary>
public sealed record ConsentExplanation(long Pid, int Day, IReadOnlyList<PolicyConsent> Policies);

/// <summary>A policy's effective state today, its periods of constant state, and every provision behind them.</summary>
public sealed record PolicyConsent(string Policy, string Name, bool PermittedToday, IReadOnlyList<ConsentPeriod> Periods, IReadOnlyList<ConsentProvision> Provisions);

/// <summary>A stretch of days (inclusive; null = open) with one state and the provisions that decide it.</summary>
public sealed record ConsentPeriod(long? From, long? To, bool Permitted, IReadOnlyList<string> Because);
