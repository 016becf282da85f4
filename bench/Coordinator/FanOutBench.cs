using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Midia.CertsDev;
using Midia.Coordinator.FanOut;
using Midia.Coordinator.Quota;
using Midia.Coordinator.Serve;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Midia.Trust;
using static Midia.Bench.Loopback;

namespace Midia.Bench.Coordinator;

/// <summary>
/// Federated count latency end to end (researcher → coordinator → N nodes → total, mutual TLS on
/// every hop, all on loopback) against the slowest node's own answer time, the coordinator's
/// overhead, the same through the `midia` executable, and sustained federated counts per second.
/// The nodes answer from a script: this measures the network and the coordinator, not the engine.
/// </summary>
public static class FanOutBench
{
    public static async Task<int> RunAsync(int iterations)
    {
        Console.WriteLine(await TableAsync(iterations, cliRuns: 10, sustainedSeconds: 5));
        return 0;
    }

    /// <summary>The markdown table BENCHMARKS.md shows: 3 and 10 sites, each federated figure with its ratio to the slowest node alone.</summary>
    public static async Task<string> TableAsync(int iterations, int cliRuns, int sustainedSeconds)
    {
        var folder = Path.Combine(Path.GetTempPath(), "midia-fanout-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        try
        {
            using var authority = DevCertificates.CreateAuthority("Bench CA");
            var rows = new List<string>();
            foreach (var sites in new[] { 3, 10 })
                rows.AddRange(await MeasureAsync(authority, folder, sites, iterations, cliRuns: sites == 3 ? cliRuns : 0, sustainedSeconds: sites == 3 ? sustainedSeconds : 0));
            var table = new System.Text.StringBuilder();
            table.AppendLine($"{iterations} queries per row after {Math.Min(50, iterations)} warm-up queries (p50 / p95 in ms).");
            table.AppendLine();
            table.AppendLine("| measurement | sites | p50 ms | p95 ms | note |");
            table.AppendLine("|---|---:|---:|---:|---|");
            foreach (var row in rows) table.AppendLine(row);
            return table.ToString();
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
    }

    static async Task<List<string>> MeasureAsync(X509Certificate2 authority, string folder, int siteCount, int iterations, int cliRuns, int sustainedSeconds)
    {
        var nodes = new List<Running>();
        var disposables = new List<IDisposable>();
        var rows = new List<string>();
        try
        {
            for (var i = 0; i < siteCount; i++)
                nodes.Add(await StartScriptedAsync(Material(authority, "node", $"node-{i}", $"site-{i}", disposables), $"site-{i}", new AnsweringNode(10 * (i + 1))));
            var sitesFile = Path.Combine(folder, $"sites-{siteCount}.json");
            await File.WriteAllTextAsync(sitesFile, "[" + string.Join(",", nodes.Select((n, i) => $$"""{"id": "site-{{i}}", "address": "https://127.0.0.1:{{n.Address.Port}}"}""")) + "]");
            var coordinatorTls = Material(authority, "coordinator", "coordinator", null, disposables);
            await using var coordinator = await StartCoordinatorAsync(
                new CoordinatorSettings(new IPEndPoint(IPAddress.Loopback, 0), coordinatorTls, Path.Combine(folder, $"coordinator-{siteCount}.db"), sitesFile)
                {
                    FanOut = new FanOutOptions(),
                    Quota = new QuotaOptions { PerMinute = int.MaxValue, Per7Days = int.MaxValue },
                });

            // The slowest node's own answer time, asked directly (as the coordinator asks it: pinned to that site's node).
            var direct = new List<double>();
            for (var i = 0; i < nodes.Count; i++)
            {
                using var channel = NetworkChannel.Open(nodes[i].Address, coordinatorTls, new ServerPin("node", $"site-{i}"));
                var node = new SiteNode.SiteNodeClient(channel.Invoker);
                var times = await TimeAsync(iterations, 50, async n =>
                    await node.CohortCountAsync(new CohortCountRequest { CcdlJson = Query(n), QueryId = "bench" }, deadline: DateTime.UtcNow.AddSeconds(10)));
                if (direct.Count == 0 || Percentile.Of(times, 50) > Percentile.Of(direct, 50)) direct = times;
            }
            rows.Add(Row("slowest node's own answer (direct call)", siteCount, direct, "coordinator → node, unary, warm connection"));

            using var researcherChannel = NetworkChannel.Open(coordinator.Address, Material(authority, "researcher", "Bench Researcher", null, disposables), new ServerPin("coordinator"));
            var researcher = new Research.ResearchClient(researcherChannel.Invoker);
            var offset = siteCount * 1_000_000;
            async Task Federated(int n)
            {
                using var call = researcher.Count(new CountRequest { CcdlJson = Query(offset + n) }, deadline: DateTime.UtcNow.AddSeconds(30));
                CountTotal? total = null;
                await foreach (var e in call.ResponseStream.ReadAllAsync())
                    if (e.EventCase == CountEvent.EventOneofCase.Total) total = e.Total;
                if (total is null || total.SitesCounted != siteCount) throw new InvalidOperationException("a federated count came back incomplete");
            }
            var federated = await TimeAsync(iterations, 50, Federated);
            rows.Add(Row("federated count, CLI excluded (gRPC client → total)", siteCount, federated,
                $"overhead p50 {Percentile.Of(federated, 50) - Percentile.Of(direct, 50):0.00} ms, ratio {Percentile.Of(federated, 50) / Percentile.Of(direct, 50):0.0}× the slowest node"));

            if (cliRuns > 0 && CliTimes(authority, folder, coordinator.Address, cliRuns) is { } cli)
                rows.Add(Row("federated count, CLI included (`midia count --json` process)", siteCount, cli, $"{cliRuns} runs; includes .NET process start"));

            if (sustainedSeconds > 0)
            {
                const int inFlight = 16;
                var duration = TimeSpan.FromSeconds(sustainedSeconds);
                var done = 0;
                var next = 0;
                var clock = Stopwatch.StartNew();
                await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async _ =>
                {
                    while (clock.Elapsed < duration)
                    {
                        await Federated(iterations + Interlocked.Increment(ref next));
                        Interlocked.Increment(ref done);
                    }
                }));
                rows.Add($"| sustained federated counts | {siteCount} | {done / clock.Elapsed.TotalSeconds:0} / s | | {inFlight} in flight for {duration.TotalSeconds:0} s, each query recorded in the history database |");
            }
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
            foreach (var d in disposables) d.Dispose();
        }
        return rows;
    }

    static List<double>? CliTimes(X509Certificate2 authority, string folder, Uri coordinator, int runs)
    {
        var midia = Path.Combine(AppContext.BaseDirectory, "midia.dll");
        if (!File.Exists(midia)) return null;
        using var user = DevCertificates.Issue(authority, "researcher", "Bench Cli");
        var prefix = Path.Combine(folder, "cli");
        DevCertificates.WritePem(user, prefix + ".crt", prefix + ".key");
        File.WriteAllText(Path.Combine(folder, "ca.crt"), authority.ExportCertificatePem());
        var times = new List<double>();
        for (var i = 0; i < runs + 1; i++)
        {
            var query = Path.Combine(folder, $"q{i}.json");
            File.WriteAllText(query, Query(-1 - i));
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { midia, "count", query, "--json", "--coordinator", coordinator.ToString().TrimEnd('/'), "--cert", prefix + ".crt", "--key", prefix + ".key", "--ca", Path.Combine(folder, "ca.crt") })
                start.ArgumentList.Add(arg);
            var clock = Stopwatch.StartNew();
            using var process = Process.Start(start)!;
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException("midia count failed: " + process.StandardError.ReadToEnd());
            if (i > 0) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return times;
    }

    static string Row(string what, int sites, List<double> times, string note) =>
        $"| {what} | {sites} | {Percentile.Of(times, 50):0.00} | {Percentile.Of(times, 95):0.00} | {note} |";

    static string Query(int n) => $$"""{"version": "http://to_be_decided.com/draft-1/schema#", "display": "bench {{n}}", "inclusionCriteria": [[{"termCodes": [{"code": "C50", "system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm"}]}]]}""";

    /// <summary>A node that answers at once with a fixed released count (StratifiedCount: the generated base's UNIMPLEMENTED).</summary>
    [RequireRole("coordinator")]
    sealed class AnsweringNode(long value) : SiteNode.SiteNodeBase
    {
        public override Task<CohortCountReply> CohortCount(CohortCountRequest request, ServerCallContext context) =>
            Task.FromResult(new CohortCountReply { Count = new ReleasedCount { Value = value, Obfuscated = true, Treatment = "rounded to 10", Threshold = 10 }, CanonicalHash = "bench" });
    }
}
