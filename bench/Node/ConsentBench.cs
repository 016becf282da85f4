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
                Console.WriteLine($"setup: {patients:N0} patients, {Count(setup, "consent_provision"):N0} provisions in {clock.Elapsed.TotalSeconds:F1} s");
            }
            using var connection = SiteDatabase.Open(path);
            var ledger = new ConsentLedger(connection);
            var today = Days.Today();
            var watch = Stopwatch.StartNew();
            var permitted = ledger.Permitted(ConsentPolicies.Research, today).Count();
            Console.WriteLine($"Permitted(research, today) cold: {watch.Elapsed.TotalMilliseconds:F0} ms ({permitted:N0} permitted)");
            Report("Permitted cached", 200, _ => ledger.Permitted(ConsentPolicies.Research, today));
            Report("Permitted after a consent set", 5, i =>
            {
                ledger.Record(1 + i * 1000, ConsentPolicies.Research, false, today, null);
                watch.Restart();
                ledger.Permitted(ConsentPolicies.Research, today);
                return watch.Elapsed.TotalMilliseconds;
            });
            Report("IsPermitted (one patient)", 1000, i => ledger.IsPermitted(1 + i * 997L % patients, ConsentPolicies.Research, today));
            Report("Explain (one patient)", 200, i => ledger.Explain(1 + i * 997L % patients, today));
            var disclosure = new DisclosureControl(connection);
            Report("DisclosureControl.Release", 1000, i => disclosure.Release(1000 + i, QueryTypes.CohortCount, $"hash-{i}", 1));
            return 0;
        }
        finally
        {
            if (keep is null) Directory.Delete(folder, recursive: true);
        }
    }

    static void Report(string what, int runs, Func<int, object> action)
    {
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            var result = action(i);
            times[i] = result is double measured ? measured : watch.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        Console.WriteLine($"{what}: p50 {times[runs / 2]:F3} ms, p95 {times[runs * 95 / 100]:F3} ms ({runs} runs)");
    }

    static long Count(Microsoft.Data.Sqlite.SqliteConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table}";
        return (long)command.ExecuteScalar()!;
    }
}
