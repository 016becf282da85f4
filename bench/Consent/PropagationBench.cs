using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Midia.CertsDev;
using Midia.Coordinator.Serve;
using Midia.Node.Linkage;
using Midia.Node.Store;
using static Midia.Bench.Loopback;

namespace Midia.Bench.Consent;

/// <summary>
/// Network consent propagation, all on loopback with mutual TLS: the real coordinator and N
/// in-process nodes (NodeServer.Create, as `serve` wires them: NetworkConsent, ConsentSync,
/// ConsentReceiver and the rest), each with its own SQLite file. Latency = from the outbox write of `consent set` (ConsentLedger.Record)
/// to the change applied (committed, in force for the next query) at every node; the submitter is
/// woken at once as an in-process `consent set` would (a separate `consent set` process waits for
/// the next 0.5 s tick, + 250 ms on average). Throughput = a burst of changes written to the
/// outboxes of three sites at once, until every node holds all of them.
/// </summary>
public static class PropagationBench
{
    public static async Task<int> RunAsync(int iterations, int burst)
    {
        Console.WriteLine(await TableAsync(iterations, burst));
        return 0;
    }

    /// <summary>The markdown table BENCHMARKS.md shows: 3 and 10 nodes, the burst at 3.</summary>
    public static async Task<string> TableAsync(int iterations, int burst)
    {
        var rows = new List<string>();
        foreach (var n in new[] { 3, 10 })
            rows.Add(await MeasureAsync(n, iterations, burst: n == 3 ? burst : 0));
        var table = new System.Text.StringBuilder();
        table.AppendLine($"{iterations} changes one after another per row (origins round-robin), then a burst of {burst:N0} changes from three sites at once.");
        table.AppendLine();
        table.AppendLine("| nodes | changes | p50 ms | p99 ms | max ms | burst | burst s | changes/s |");
        table.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows) table.AppendLine(row);
        return table.ToString();
    }

    static async Task<string> MeasureAsync(int nodeCount, int iterations, int burst)
    {
        var folder = Path.Combine(Path.GetTempPath(), "midia-consent-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        using var authority = DevCertificates.CreateAuthority("Consent Bench CA");
        var key = LinkageKey.FromSecret("a benchmark linkage secret of at least 32 bytes"u8);
        // Named before it binds: the nodes dial it. The nodes take any free port and start first,
        // so the coordinator's fan-out finds them listening.
        var coordinatorPort = FreePort();
        const int patients = 200;
        var nodes = new List<BenchNode>();
        var disposables = new List<IDisposable>();
        try
        {
            for (var i = 0; i < nodeCount; i++)
            {
                var db = Path.Combine(folder, $"site-{i}.db");
                AddPatients(db, $"site-{i}", patients, key);
                nodes.Add(await BenchNode.StartAsync($"site-{i}", db, new Uri($"https://127.0.0.1:{coordinatorPort}"), Material(authority, "node", $"node-{i}", $"site-{i}", disposables), key));
            }
            var sitesFile = Path.Combine(folder, "sites.json");
            File.WriteAllText(sitesFile, JsonSerializer.Serialize(nodes.Select((n, i) => new { id = $"site-{i}", address = $"https://127.0.0.1:{n.Address.Port}" })));
            await using var coordinator = await StartCoordinatorAsync(
                new CoordinatorSettings(new IPEndPoint(IPAddress.Loopback, coordinatorPort), Material(authority, "coordinator", "coordinator", null, disposables), Path.Combine(folder, "coordinator.db"), sitesFile));
            foreach (var node in nodes) node.CoordinatorListening();

            // Latency: one change at a time, origins round-robin.
            long expected = 0;
            var millis = new List<double>();
            for (var k = 0; k < iterations; k++)
            {
                var origin = nodes[k % nodeCount];
                var watch = Stopwatch.StartNew();
                origin.Record(1 + k % patients, permit: k % 2 == 0);
                expected++;
                await AppliedEverywhereAsync(nodes, expected, watch, pollMs: 1);
                millis.Add(watch.Elapsed.TotalMilliseconds);
            }
            millis.Sort();
            string burstText = "", burstSeconds = "", rate = "";
            if (burst > 0)
            {
                var origins = nodes.Take(3).ToList();
                var watch = Stopwatch.StartNew();
                await Task.WhenAll(origins.Select((o, i) => Task.Run(() =>
                {
                    for (var k = i; k < burst; k += origins.Count) o.Record(1 + k % patients, permit: k % 3 != 0);
                })));
                expected += burst;
                await AppliedEverywhereAsync(nodes, expected, watch, pollMs: 5);
                var seconds = watch.Elapsed.TotalSeconds;
                (burstText, burstSeconds, rate) = (burst.ToString(), seconds.ToString("F1"), (burst / seconds).ToString("F0"));
            }
            return $"| {nodeCount} | {iterations} | {Percentile.Of(millis, 50):F1} | {Percentile.Of(millis, 99):F1} | {millis[^1]:F1} | {burstText} | {burstSeconds} | {rate} |";
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
            foreach (var d in disposables) d.Dispose();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
    }

    /// <summary>Until every node applied the change numbered <paramref name="expected"/>; bounded at two minutes.</summary>
    static async Task AppliedEverywhereAsync(List<BenchNode> nodes, long expected, Stopwatch watch, int pollMs)
    {
        while (nodes.Any(n => n.Consent.AppliedSeq() < expected))
        {
            if (watch.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException($"consent change {expected} did not reach every node in 2 minutes");
            await Task.Delay(pollMs);
        }
    }

    /// <summary>A site database with <paramref name="patients"/> patients (KVNRs, no facts): what consent changes name.</summary>
    static void AddPatients(string db, string site, int patients, LinkageKey key)
    {
        using var desk = SiteDatabase.Open(db);
        using var transaction = desk.BeginTransaction();
        using var insert = desk.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO patient(resource_id, sex, birth_date, kvnr) VALUES ($id, 'female', 7000, $kvnr)";
        var id = insert.Parameters.Add("$id", Microsoft.Data.Sqlite.SqliteType.Text);
        var kvnr = insert.Parameters.Add("$kvnr", Microsoft.Data.Sqlite.SqliteType.Text);
        for (var p = 1; p <= patients; p++)
        {
            id.Value = $"{site}-p{p}";
            kvnr.Value = $"B{p:D9}";
            insert.ExecuteNonQuery();
        }
        transaction.Commit();
        LinkagePseudonym.FillMissing(desk, key);
    }
}
