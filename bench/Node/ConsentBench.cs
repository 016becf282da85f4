using System.Diagnostics;
using Midia.Node.Consent;
using Midia.Node.Disclosure;
using Midia.Node.Policy;
using Midia.Node.Store;

namespace Midia.Bench.Node;

/// <summary>
/// Consent at scale: a site of N patients with MII broad consents (research permitted for 90 %,
/// revocations for 1 in 17), 10,000 network changes; times the site-wide research set cold,
/// cached, and after a `consent set`, single-patient checks, and one disclosure release.
/// </summary>
public static class ConsentBench
{
    public static int Run(int patients, string? keep)
    {
        Console.WriteLine(Table(patients, keep));
        return 0;
    }

    /// <summary>The markdown table BENCHMARKS.md shows.</summary>
    public static string Table(int patients, string? keep)
    {
        var table = new System.Text.StringBuilder();
        var folder = keep ?? Directory.CreateTempSubdirectory("midia-consent-bench-").FullName;
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "site.db");
        try
        {
            if (!File.Exists(path))
            {
                using var setup = SiteDatabase.Open(path);
                var clock = Stopwatch.StartNew();
                SiteDatabase.Execute(setup, $"""
                    BEGIN;
                    WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {patients})
                    INSERT INTO patient(pid, resource_id, linkage) SELECT i, 'p' || i, 'L' || i FROM s;
                    INSERT INTO consent_provision(pid, policy, permit, start, end, source)
                      SELECT pid, p.code, 1, 15000 + pid % 3000, 26000, 'Consent/' || pid FROM patient,
                        (SELECT '{ConsentPolicies.Research}' code UNION ALL SELECT '{ConsentPolicies.MiiRoot}.2'
                         UNION ALL SELECT '{ConsentPolicies.MiiRoot}.6' UNION ALL SELECT '{ConsentPolicies.MiiRoot}.7') p
                      WHERE pid % 10 <> 0;
                    INSERT INTO consent_provision(pid, policy, permit, start, end, source)
                      SELECT pid, '{ConsentPolicies.Research}', 0, 19000, NULL, 'Consent/r' || pid FROM patient WHERE pid % 17 = 0;
                    INSERT INTO consent_provision(linkage, policy, permit, start, end, source, seq)
                      SELECT 'L' || (pid * 7 % {patients} + 1), '{ConsentPolicies.Research}', pid % 2, 20000, NULL, 'network:' || pid, pid
                      FROM patient WHERE pid <= 10000;
                    COMMIT;
                    """);
                SiteDatabase.BumpDataVersion(setup);
                Console.Error.WriteLine($"consent bench: setup of {patients:N0} patients, {Count(setup, "consent_provision"):N0} provisions in {clock.Elapsed.TotalSeconds:F1} s");
            }
            using var connection = SiteDatabase.Open(path);
            var ledger = new ConsentLedger(connection);
            var today = Days.Today();
            var watch = Stopwatch.StartNew();
            var permitted = ledger.Permitted(ConsentPolicies.Research, today).Count();
            var cold = watch.Elapsed.TotalMilliseconds;
            using (var count = connection.CreateCommand())
            {
                count.CommandText = "SELECT COUNT(*) FROM consent_provision";
                table.AppendLine($"{patients:N0} patients, {(long)count.ExecuteScalar()!:N0} consent provisions (research permitted for 90 %, revoked for 1 in 17, 10,000 network changes); {permitted:N0} permitted today.");
            }
            table.AppendLine();
            table.AppendLine("| operation | runs | p50 | p95 | ratio to the cached set (p50) |");
            table.AppendLine("|---|---:|---:|---:|---:|");
            var cached = Report(table, "research-consent set of the whole site, cached (same data version)", 200, null, _ => ledger.Permitted(ConsentPolicies.Research, today));
            table.AppendLine($"| research-consent set of the whole site, first query after start | 1 | {cold:F1} ms | | {cold / cached:N0}x |");
            Report(table, "the same, first query after a `consent set`", 5, cached, i =>
            {
                ledger.Record(1 + i * 1000L % patients, ConsentPolicies.Research, false, today, null);
                watch.Restart();
                ledger.Permitted(ConsentPolicies.Research, today);
                return watch.Elapsed.TotalMilliseconds;
            });
            Report(table, "one patient's state (`IsPermitted`)", 1000, cached, i => ledger.IsPermitted(1 + i * 997L % patients, ConsentPolicies.Research, today));
            Report(table, "`consent show` data (`Explain`)", 200, cached, i => ledger.Explain(1 + i * 997L % patients, today));
            var disclosure = new DisclosureControl(connection);
            Report(table, "one disclosure-control release", 1000, cached, i => disclosure.Release(1000 + i, QueryTypes.CohortCount, $"hash-{i}", 1));
            return table.ToString();
        }
        finally
        {
            if (keep is null) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>One row: p50/p95 of <paramref name="runs"/> calls (nearest rank), with its ratio to <paramref name="baseline"/>; returns the p50.</summary>
    static double Report(System.Text.StringBuilder table, string what, int runs, double? baseline, Func<int, object> action)
    {
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            var result = action(i);
            times[i] = result is double measured ? measured : watch.Elapsed.TotalMilliseconds;
        }
        var p50 = Percentile.Of(times, 50);
        table.AppendLine($"| {what} | {runs} | {p50:F3} ms | {Percentile.Of(times, 95):F3} ms | {(baseline is { } b ? $"{p50 / b:N1}x" : "1x")} |");
        return p50;
    }

    static long Count(Microsoft.Data.Sqlite.SqliteConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table}";
        return (long)command.ExecuteScalar()!;
    }
}
