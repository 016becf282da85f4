using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Midia.CertsDev;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Midia.Trust;
using static Midia.Bench.Loopback;

namespace Midia.Bench.Coordinator;

/// <summary>
/// How the coordinator's fan-out cost grows with the number of sites: the real `midia-coordinator`
/// executable (its own process, so its CPU time and memory are its own) in front of 1 to 200
/// simulated sites — in-process SiteNode servers on the network server every node runs (Kestrel,
/// grpc-dotnet), one per site with its own port and mutual TLS, that answer CohortCount after a delay drawn from a log-normal distribution
/// (median 20 ms, σ 0.5) with a 2 % tail of 4–10× (a site busy with something else). The delay is a
/// pure function of (query, site), so the benchmark knows the slowest site's delay for every query
/// and reports the coordinator's latency beyond it.
/// </summary>
public static class SimulatedNetworkBench
{
    const double MedianMs = 20, Sigma = 0.5, TailShare = 0.02;

    public static async Task<int> RunAsync(string[] args)
    {
        var iterations = args.Length > 1 && args[0] == "--iterations" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100;
        Console.WriteLine(await TableAsync([1, 10, 50, 100, 200], iterations));
        return 0;
    }

    /// <summary>The markdown table BENCHMARKS.md shows: one row per network size with the default
    /// concurrency cap, and the largest network once more with the cap lifted.</summary>
    public static async Task<string> TableAsync(IReadOnlyList<int> siteCounts, int iterations)
    {
        var coordinatorDll = Path.Combine(AppContext.BaseDirectory, "midia-coordinator.dll");
        if (!File.Exists(coordinatorDll)) throw new FileNotFoundException($"{coordinatorDll} is missing: build the bench project, which copies the coordinator beside it");
        var folder = Directory.CreateTempSubdirectory("midia-simulated-network-").FullName;
        using var authority = DevCertificates.CreateAuthority("Simulated Network CA");
        var largest = siteCounts.Max();
        var sites = new List<Running>();
        var disposables = new List<IDisposable>();
        try
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < largest; i++)
            {
                // Each site its own node certificate: the coordinator checks that a site's node is that site's.
                sites.Add(await StartScriptedAsync(Material(authority, "node", $"node-sim-{i}", $"sim-{i}", disposables), $"sim-{i}", new SimulatedSite(i)));
            }
            Console.Error.WriteLine($"simulated network: {largest} simulated sites serving in {clock.Elapsed.TotalSeconds:0.0} s");
            using (var coordinator = DevCertificates.Issue(authority, "coordinator", "coordinator"))
                DevCertificates.WritePem(coordinator, Path.Combine(folder, "coordinator.crt"), Path.Combine(folder, "coordinator.key"));
            File.WriteAllText(Path.Combine(folder, "ca.crt"), authority.ExportCertificatePem());
            var researcherTls = Material(authority, "researcher", "Simulated Researcher", null, disposables);

            var rows = new List<string>();
            const int defaultCap = 32; // FanOutOptions.MaxConcurrentSites
            foreach (var (count, cap) in siteCounts.Order().Select(n => (n, (int?)null)).Append((largest, largest)))
                rows.Add(await MeasureAsync(coordinatorDll, folder, sites.Take(count).ToList(), cap, iterations, researcherTls));

            var table = new StringBuilder();
            table.AppendLine($"{iterations} federated counts per row after 5 warm-up counts, one at a time; each site's delay log-normal (median {MedianMs} ms, σ {Sigma}) " +
                             $"with a {TailShare:P0} tail of 4–10×; overhead = the count's latency minus its slowest site's delay, per query. " +
                             $"CPU and memory are the coordinator process's own (`midia-coordinator serve`, a fresh process per row); default concurrency cap {defaultCap} sites at once.");
            table.AppendLine();
            table.AppendLine("| sites | concurrency cap | slowest site p50 ms | count p50 ms | count p95 ms | overhead p50 ms | overhead p95 ms | count / slowest site (p50) | coordinator CPU ms per count | coordinator RSS MB |");
            table.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var row in rows) table.AppendLine(row);
            return table.ToString();
        }
        finally
        {
            // Stopped together: each waits out its connections' goodbyes, 200 of them one by one would add up.
            await Task.WhenAll(sites.Select(site => site.DisposeAsync().AsTask()));
            foreach (var d in disposables) d.Dispose();
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
    }

    static async Task<string> MeasureAsync(string coordinatorDll, string folder, List<Running> sites, int? cap, int iterations, TlsMaterial researcherTls)
    {
        var n = sites.Count;
        var sitesFile = Path.Combine(folder, $"sites-{n}-{cap}.json");
        File.WriteAllText(sitesFile, JsonSerializer.Serialize(sites.Select((s, i) => new { id = $"sim-{i}", address = $"https://127.0.0.1:{s.Address.Port}" })));
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = folder };
        foreach (var arg in new[] { coordinatorDll, "serve", "--listen", $"127.0.0.1:{port}", "--cert", Path.Combine(folder, "coordinator.crt"),
                     "--key", Path.Combine(folder, "coordinator.key"), "--ca", Path.Combine(folder, "ca.crt"), "--db", Path.Combine(folder, $"coordinator-{n}-{cap}.db"), "--sites", sitesFile })
            start.ArgumentList.Add(arg);
        // A benchmark asks far more often than a researcher may.
        start.Environment["MIDIA_Quota__PerMinute"] = "100000000";
        start.Environment["MIDIA_Quota__Per7Days"] = "100000000";
        if (cap is { } c) start.Environment["MIDIA_FanOut__MaxConcurrentSites"] = c.ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(start)!;
        var log = new StringBuilder();
        var serving = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (log) log.AppendLine(e.Data);
            if (e.Data.Contains("serving on", StringComparison.Ordinal)) serving.TrySetResult();
        };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            if (await Task.WhenAny(serving.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(120))) != serving.Task)
                throw new InvalidOperationException($"midia-coordinator did not start: {log}");

            using var channel = NetworkChannel.Open(new Uri($"https://127.0.0.1:{port}"), researcherTls, new ServerPin("coordinator"));
            var research = new Research.ResearchClient(channel.Invoker);
            var tag = $"{n}-{cap}-{Guid.NewGuid():N}";
            async Task<double> Count(int i)
            {
                var display = $"simulated {tag} {i}";
                var started = Stopwatch.GetTimestamp();
                using var call = research.Count(new CountRequest { CcdlJson = Query(display) }, deadline: DateTime.UtcNow.AddSeconds(60));
                CountTotal? total = null;
                var problems = new List<string>();
                await foreach (var current in call.ResponseStream.ReadAllAsync())
                {
                    if (current.EventCase == CountEvent.EventOneofCase.Total) total = current.Total;
                    else if (current.EventCase == CountEvent.EventOneofCase.Site && current.Site.Status != SiteStatus.Ok && problems.Count < 3) problems.Add($"{current.Site.Site}: {current.Site.Status} {current.Site.Message}");
                }
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (total is null || total.SitesCounted != n)
                    throw new InvalidOperationException($"a federated count over {n} simulated sites came back incomplete ({total?.SitesCounted} counted; {string.Join("; ", problems)})");
                return elapsed - Enumerable.Range(0, n).Max(site => DelayMs(display, site));
            }

            for (var i = 0; i < 5; i++) await Count(-1 - i); // connections to every site, JIT, SQLite
            var cpu = process.TotalProcessorTime;
            var overhead = new List<double>(iterations);
            var latency = new List<double>(iterations);
            var slowest = new List<double>(iterations);
            for (var i = 0; i < iterations; i++)
            {
                var slowestDelay = Enumerable.Range(0, n).Max(site => DelayMs($"simulated {tag} {i}", site));
                var beyond = await Count(i);
                overhead.Add(beyond);
                latency.Add(beyond + slowestDelay);
                slowest.Add(slowestDelay);
            }
            process.Refresh();
            var cpuPerCount = (process.TotalProcessorTime - cpu).TotalMilliseconds / iterations;
            var rss = process.WorkingSet64 / 1e6;
            Console.Error.WriteLine($"simulated network: {n} sites{(cap is null ? "" : $", cap {cap}")}: count p50 {Percentile.Of(latency, 50):0.0} ms, overhead p50 {Percentile.Of(overhead, 50):0.0} ms");
            return string.Create(CultureInfo.InvariantCulture,
                $"| {n} | {(cap is null ? "32 (default)" : cap.ToString())} | {Percentile.Of(slowest, 50):0.0} | {Percentile.Of(latency, 50):0.0} | {Percentile.Of(latency, 95):0.0} | {Percentile.Of(overhead, 50):0.0} | {Percentile.Of(overhead, 95):0.0} | " +
                $"{Percentile.Of(latency, 50) / Percentile.Of(slowest, 50):0.00}x | {cpuPerCount:0.0} | {rss:0} |");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>A site's answer delay for a query: log-normal with a tail, the same in the site and in the benchmark.</summary>
    static double DelayMs(string display, int site)
    {
        var seed = BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes($"{display}|{site}")));
        var random = new Random(seed);
        var normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var delay = MedianMs * Math.Exp(Sigma * normal);
        if (random.NextDouble() < TailShare) delay *= 4 + 6 * random.NextDouble();
        return Math.Min(delay, 2000);
    }

    static string Query(string display) =>
        $$"""{"version": "http://to_be_decided.com/draft-1/schema#", "display": "{{display}}", "inclusionCriteria": [[{"termCodes": [{"code": "C50", "system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm"}]}]]}""";

    /// <summary>A site that answers after its simulated delay with a fixed released count (StratifiedCount: the generated base's UNIMPLEMENTED).</summary>
    [RequireRole("coordinator")]
    sealed class SimulatedSite(int index) : SiteNode.SiteNodeBase
    {
        public override async Task<CohortCountReply> CohortCount(CohortCountRequest request, ServerCallContext context)
        {
            var display = JsonDocument.Parse(request.CcdlJson).RootElement.GetProperty("display").GetString()!;
            await Task.Delay(TimeSpan.FromMilliseconds(DelayMs(display, index)), context.CancellationToken);
            return new CohortCountReply { Count = new ReleasedCount { Value = 10 * (index % 7 + 1), Obfuscated = true, Treatment = "rounded to 10", Threshold = 10 }, CanonicalHash = "simulated" };
        }
    }
}
