using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Midia.Bench.Node;
using Midia.CertsDev;
using Midia.Coordinator.Quota;
using Midia.Coordinator.Serve;
using Midia.Node.Consent;
using Midia.Node.Linkage;
using Midia.Node.Policy;
using Midia.Node.Store;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Midia.Trust;
using static Midia.Bench.Loopback;
using CareClient = Midia.Protos.Coordinator.V1.Care.CareClient;
using PatientCareClient = Midia.Protos.Node.V1.PatientCare.PatientCareClient;

namespace Midia.Bench.Network;

/// <summary>
/// A whole network at scale on one machine: N real nodes (wired as `midia-node serve` wires them,
/// NodeServer.Create: research queries, patient care, network consent and the rest) over N synthetic sites of P patients each
/// (bench/Node/SyntheticSite.cs, 90 % research consent, a different seed per site), and the real
/// coordinator, all in this process over mutual TLS on loopback. Measures a federated count beside
/// the slowest node alone, a clinician's summary of a patient known at every site beside the
/// slowest site's own part, and consent propagation to every node. The sites' files are built once
/// and kept in the temp folder (a fresh copy per run).
/// </summary>
public static class NetworkScaleBench
{
    const string Kvnr = "S000000001";
    static readonly LinkageKey Key = LinkageKey.FromSecret("a benchmark linkage secret of at least 32 bytes"u8);

    public static async Task<int> RunAsync(string[] args)
    {
        int Option(string name, int fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        Console.WriteLine(await TableAsync(Option("--nodes", 10), Option("--patients", 200_000), Option("--iterations", 50)));
        return 0;
    }

    public static async Task<int> RunCapacityAsync(string[] args)
    {
        int Option(string name, int fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        Console.WriteLine(await CapacityAsync(Option("--patients", 1_000_000), Option("--seconds", 20), Option("--in-flight", 4)));
        return 0;
    }

    /// <summary>The markdown table BENCHMARKS.md shows.</summary>
    public static async Task<string> TableAsync(int nodeCount, int patients, int iterations)
    {
        var folder = Directory.CreateTempSubdirectory("midia-network-scale-").FullName;
        var clock = Stopwatch.StartNew();
        var built = 0;
        for (var i = 0; i < nodeCount; i++)
        {
            var pristine = Path.Combine(Path.GetTempPath(), $"midia-bench-network-{patients}-{i}.db");
            if (!Ready(pristine, patients)) { Build(pristine, patients, i); built++; }
            var copy = Path.Combine(folder, $"site-{i}.db");
            File.Copy(pristine, copy);
            using (var connection = SiteDatabase.Open(copy)) new QueryApproval(connection).Approve(QueryTypes.PatientReport, null, null);
        }
        SqliteConnection.ClearAllPools();
        Console.Error.WriteLine($"network scale: {nodeCount} sites of {patients:N0} patients ready in {clock.Elapsed.TotalSeconds:0} s ({built} built, {nodeCount - built} reused)");
        using var authority = DevCertificates.CreateAuthority("Network Scale CA");
        var disposables = new List<IDisposable>();
        var nodes = new List<BenchNode>();
        try
        {
            // Named before it binds: the nodes dial it (consent). The nodes take any free port and
            // start first, so the coordinator's fan-out finds them listening.
            var coordinatorPort = FreePort();
            for (var i = 0; i < nodeCount; i++)
                nodes.Add(await BenchNode.StartAsync($"site-{i}", Path.Combine(folder, $"site-{i}.db"), new Uri($"https://127.0.0.1:{coordinatorPort}"), Material(authority, "node", $"node-{i}", $"site-{i}", disposables), Key));
            var sitesFile = Path.Combine(folder, "sites.json");
            File.WriteAllText(sitesFile, JsonSerializer.Serialize(nodes.Select((n, i) => new { id = $"site-{i}", address = $"https://127.0.0.1:{n.Address.Port}" })));
            var coordinatorTls = Material(authority, "coordinator", "coordinator", null, disposables);
            await using var coordinator = await StartCoordinatorAsync(
                new CoordinatorSettings(new IPEndPoint(IPAddress.Loopback, coordinatorPort), coordinatorTls, Path.Combine(folder, "coordinator.db"), sitesFile)
                { Quota = new QuotaOptions { PerMinute = int.MaxValue, Per7Days = int.MaxValue } });
            foreach (var node in nodes) node.CoordinatorListening();

            var rows = new List<string>();
            var researcherTls = Material(authority, "researcher", "Scale Researcher", null, disposables);
            var clinicianTls = Material(authority, "clinician", "Scale Clinician", "site-0", disposables);
            var homeNodeTls = Material(authority, "node", "node-0", "site-0", disposables);
            static DateTime Deadline() => DateTime.UtcNow.AddSeconds(60);
            // Each site's node as the coordinator dials it: pinned to that site's node certificate.
            NetworkChannel AsCoordinator(int site) => NetworkChannel.Open(nodes[site].Address, coordinatorTls, new ServerPin("node", $"site-{site}"));

            // Federated count beside the slowest node asked alone (as the coordinator asks it).
            var directRuns = Math.Max(5, iterations / 2);
            var slowestCount = new List<double>();
            for (var i = 0; i < nodes.Count; i++)
            {
                using var channel = AsCoordinator(i);
                var node = new SiteNode.SiteNodeClient(channel.Invoker);
                var user = new EndUser { Name = "Scale Researcher", Role = "researcher" };
                var times = await TimeAsync(directRuns, 5, async n =>
                {
                    var reply = await node.CohortCountAsync(new CohortCountRequest { User = user, CcdlJson = Query($"direct {n}"), QueryId = $"direct-{n}" }, deadline: Deadline());
                    if (reply.Count is null) throw new InvalidOperationException("a node did not release a count");
                });
                if (slowestCount.Count == 0 || Percentile.Of(times, 50) > Percentile.Of(slowestCount, 50)) slowestCount = times;
            }
            rows.Add(Row("slowest node's own count (CohortCount, direct call)", nodeCount, patients, slowestCount, null, $"{directRuns} calls per node"));

            using (var channel = NetworkChannel.Open(coordinator.Address, researcherTls, new ServerPin("coordinator")))
            {
                var research = new Research.ResearchClient(channel.Invoker);
                var federated = await TimeAsync(iterations, 5, async n =>
                {
                    using var call = research.Count(new CountRequest { CcdlJson = Query($"federated {n}") }, deadline: Deadline());
                    CountTotal? total = null;
                    await foreach (var e in call.ResponseStream.ReadAllAsync())
                        if (e.EventCase == CountEvent.EventOneofCase.Total) total = e.Total;
                    if (total is null || total.SitesCounted != nodeCount) throw new InvalidOperationException($"a federated count came back incomplete ({total?.SitesCounted} of {nodeCount} sites)");
                });
                rows.Add(Row("federated count (researcher → coordinator → every node → total)", nodeCount, patients, federated, slowestCount, "the nodes share the machine's cores"));
            }

            // A clinician's summary of a patient every site knows, beside the slowest site's own part.
            var linkage = LinkagePseudonym.Of(Key, Kvnr, null, null, null, null)!;
            var slowestPart = new List<double>();
            for (var i = 0; i < nodes.Count; i++)
            {
                using var channel = AsCoordinator(i);
                var site = new PatientCareClient(channel.Invoker);
                var times = await TimeAsync(directRuns, 5, async _ =>
                {
                    var reply = await site.PatientSummaryAsync(new PatientSummaryRequest { User = new() { Name = "Scale Clinician", Role = "clinician", Site = "site-0" }, Linkage = linkage }, deadline: Deadline());
                    if (reply.Entries.Count == 0) throw new InvalidOperationException("a site released nothing for the bench patient");
                });
                if (slowestPart.Count == 0 || Percentile.Of(times, 50) > Percentile.Of(slowestPart, 50)) slowestPart = times;
            }
            rows.Add(Row("slowest site's own summary part (PatientSummary, direct call)", nodeCount, patients, slowestPart, null, $"{directRuns} calls per site"));
            using (var nodeChannel = NetworkChannel.Open(nodes[0].Address, clinicianTls, new ServerPin("node", "site-0")))
            using (var coordinatorChannel = NetworkChannel.Open(coordinator.Address, clinicianTls, new ServerPin("coordinator")))
            {
                var home = new PatientCareClient(nodeChannel.Invoker);
                var care = new CareClient(coordinatorChannel.Invoker);
                var entries = 0;
                var summaries = await TimeAsync(iterations, 5, async _ =>
                {
                    var ticket = (await home.ResolvePatientAsync(new ResolvePatientRequest { Kvnr = Kvnr }, deadline: Deadline())).Ticket;
                    var reply = await care.SummaryAsync(new SummaryRequest { Site = "site-0", Ticket = ticket }, deadline: Deadline());
                    if (reply.Sites.Count != nodeCount || reply.Sites.Any(s => s.Status != SiteStatus.Ok))
                        throw new InvalidOperationException($"a summary came back incomplete: {string.Join(", ", reply.Sites.Select(s => $"{s.Site} {s.Status} {s.Message}"))}");
                    entries = reply.Entries.Count;
                });
                rows.Add(Row("clinician's summary (ResolvePatient + Care.Summary)", nodeCount, patients, summaries, slowestPart, $"{entries} timeline entries from {nodeCount} sites"));
            }

            // The bench patient's transparency report, asked by the home site's node: every site's
            // consent, accesses and the research uses that counted them (the counts above wrote ledger rows).
            var slowestReport = new List<double>();
            var nodeUser = new EndUser { Name = "node-0", Role = "node", Site = "site-0" };
            for (var i = 0; i < nodes.Count; i++)
            {
                using var channel = AsCoordinator(i);
                var site = new PatientCareClient(channel.Invoker);
                var times = await TimeAsync(directRuns, 5, async n =>
                    await site.PatientReportAsync(new Midia.Protos.Node.V1.PatientReportRequest { User = nodeUser, Linkage = linkage, RequestId = $"direct-{n}" }, deadline: Deadline()));
                if (slowestReport.Count == 0 || Percentile.Of(times, 50) > Percentile.Of(slowestReport, 50)) slowestReport = times;
            }
            rows.Add(Row("slowest site's own report part (PatientReport, direct call)", nodeCount, patients, slowestReport, null, $"{directRuns} calls per site"));
            using (var channel = NetworkChannel.Open(coordinator.Address, homeNodeTls, new ServerPin("coordinator")))
            {
                var care = new CareClient(channel.Invoker);
                var reports = await TimeAsync(iterations, 5, async _ =>
                {
                    var reply = await care.PatientReportAsync(new Midia.Protos.Coordinator.V1.PatientReportRequest { Linkage = linkage }, deadline: Deadline());
                    if (reply.Sites.Count != nodeCount || reply.Sites.Any(s => s.Status != SiteStatus.Ok))
                        throw new InvalidOperationException($"a patient report came back incomplete: {string.Join(", ", reply.Sites.Select(s => $"{s.Site} {s.Status} {s.Message}"))}");
                });
                rows.Add(Row("patient report (home node → Care.PatientReport → every site)", nodeCount, patients, reports, slowestReport, "the aim: under a second"));
            }

            // Consent propagation: one change at a time, origins round-robin, until every node applied it.
            long expected = nodes.Max(n => n.Consent.AppliedSeq());
            var propagation = new List<double>();
            for (var k = 0; k < iterations; k++)
            {
                var origin = nodes[k % nodeCount];
                var watch = Stopwatch.StartNew();
                origin.Record(1 + k * 7919 % patients, permit: k % 2 == 0);
                expected++;
                while (nodes.Any(n => n.Consent.AppliedSeq() < expected))
                {
                    if (watch.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException($"consent change {expected} did not reach every node in 2 minutes");
                    await Task.Delay(1);
                }
                propagation.Add(watch.Elapsed.TotalMilliseconds);
            }
            rows.Add(Row("consent change: `consent set` → applied at every node", nodeCount, patients, propagation, null, $"{iterations} changes one after another, origins round-robin"));

            var table = new StringBuilder();
            table.AppendLine($"{nodeCount} nodes × {patients:N0} synthetic patients ({nodeCount * (long)patients:N0} in all), all in one process on this machine; {iterations} federated counts, summaries, patient reports and consent changes " +
                             $"after warm-up (p50 / p95 in ms); ratio = p50 against the slowest node's own p50.");
            table.AppendLine();
            table.AppendLine("| measurement | nodes | patients per node | p50 ms | p95 ms | ratio (p50) | note |");
            table.AppendLine("|---|---:|---:|---:|---:|---:|---|");
            foreach (var row in rows) table.AppendLine(row);
            return table.ToString();
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
            foreach (var d in disposables) d.Dispose();
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// What one node sustains: a single real node over a synthetic site of <paramref name="patients"/>,
    /// asked as the coordinator asks it over mutual TLS, with <paramref name="inFlight"/> calls in
    /// flight for <paramref name="seconds"/> each — cohort counts (the whole path: approval, CCDL,
    /// research consent, disclosure control, audit, usage ledger), then summary parts.
    /// </summary>
    public static async Task<string> CapacityAsync(int patients, int seconds, int inFlight = 4)
    {
        var folder = Directory.CreateTempSubdirectory("midia-node-capacity-").FullName;
        var pristine = Path.Combine(Path.GetTempPath(), $"midia-bench-network-{patients}-0.db");
        if (!Ready(pristine, patients)) Build(pristine, patients, 0);
        var db = Path.Combine(folder, "site-0.db");
        File.Copy(pristine, db);
        using var authority = DevCertificates.CreateAuthority("Node Capacity CA");
        var disposables = new List<IDisposable>();
        BenchNode? node = null;
        try
        {
            // No coordinator here: the node's consent sync finds nobody at that port and retries quietly in the background.
            node = await BenchNode.StartAsync("site-0", db, new Uri($"https://127.0.0.1:{FreePort()}"), Material(authority, "node", "node-0", "site-0", disposables), Key);
            using var channel = NetworkChannel.Open(node.Address, Material(authority, "coordinator", "coordinator", null, disposables), new ServerPin("node", "site-0"));
            var siteNode = new SiteNode.SiteNodeClient(channel.Invoker);
            var patientCare = new PatientCareClient(channel.Invoker);
            var researcher = new EndUser { Name = "Capacity Researcher", Role = "researcher" };
            var clinician = new EndUser { Name = "Capacity Clinician", Role = "clinician", Site = "site-1" };
            var linkage = LinkagePseudonym.Of(Key, Kvnr, null, null, null, null)!;
            static DateTime Deadline() => DateTime.UtcNow.AddSeconds(60);

            var table = new StringBuilder();
            table.AppendLine($"One node over {patients:N0} synthetic patients, asked over mutual TLS on loopback as the coordinator asks it, {inFlight} calls in flight for {seconds} s per workload after 5 warm-up calls.");
            table.AppendLine();
            table.AppendLine("| workload | in flight | calls | per second | p50 ms | p95 ms |");
            table.AppendLine("|---|---:|---:|---:|---:|---:|");
            table.AppendLine(await Sustain("cohort counts (men, C61, PSA > 4: approval, CCDL, consent, disclosure, audit, ledger)", seconds, inFlight, async n =>
            {
                var reply = await siteNode.CohortCountAsync(new CohortCountRequest { User = researcher, CcdlJson = Query($"capacity {n}"), QueryId = $"capacity-{n}" }, deadline: Deadline());
                if (reply.Count is null) throw new InvalidOperationException("the node did not release a count");
            }));
            table.AppendLine(await Sustain("summary parts (PatientSummary for one patient, another site's clinician)", seconds, inFlight, async _ =>
            {
                var reply = await patientCare.PatientSummaryAsync(new PatientSummaryRequest { User = clinician, Linkage = linkage }, deadline: Deadline());
                if (reply.Entries.Count == 0) throw new InvalidOperationException("the node released nothing for the bench patient");
            }));
            return table.ToString();
        }
        finally
        {
            if (node is not null) await node.DisposeAsync();
            foreach (var d in disposables) d.Dispose();
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
    }

    static async Task<string> Sustain(string what, int seconds, int inFlight, Func<int, Task> call)
    {
        for (var i = 0; i < 5; i++) await call(-1 - i);
        var next = 0;
        var times = new List<double>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async _ =>
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                var started = Stopwatch.GetTimestamp();
                await call(Interlocked.Increment(ref next));
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                lock (times) times.Add(elapsed);
            }
        }));
        var wall = clock.Elapsed.TotalSeconds;
        return string.Create(CultureInfo.InvariantCulture, $"| {what} | {inFlight} | {times.Count:N0} | {times.Count / wall:0.0} | {Percentile.Of(times, 50):0.0} | {Percentile.Of(times, 95):0.0} |");
    }

    /// <summary>A research question every site has a few hundred patients for (men with prostate cancer and PSA above 4).</summary>
    static string Query(string display) =>
        $$$$"""{"version":"2","display":"{{{{display}}}}","inclusionCriteria":[[{"termCodes":[{"system":"http://loinc.org","code":"LL2191-6"}],"valueFilter":{"type":"concept","selectedConcepts":[{"system":"","code":"M"}]}}],[{"termCodes":[{"system":"http://fhir.de/CodeSystem/bfarm/icd-10-gm","code":"C61"}]}],[{"termCodes":[{"system":"http://loinc.org","code":"2857-1"}],"valueFilter":{"type":"quantity-comparator","comparator":"gt","value":4,"unit":{"code":"ng/mL"}}}]]}""";

    static bool Ready(string db, int patients)
    {
        if (!File.Exists(db)) return false;
        using var connection = SiteDatabase.Open(db, readOnly: true);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT value FROM meta WHERE key = 'bench_patients') || '/' || IFNULL((SELECT value FROM meta WHERE key = 'bench_network'), '')";
        try { return command.ExecuteScalar() is string s && s == $"{patients}/1"; }
        catch (SqliteException) { return false; }
        finally { SqliteConnection.ClearAllPools(); }
    }

    /// <summary>A synthetic site (its own seed) with KVNRs for everyone — the bench patient's the
    /// same at every site, given to that site's richest history — research consent for 90 %, care-sharing for the bench patient,
    /// cohort-count and patient-summary approved, linkage pseudonyms filled.</summary>
    static void Build(string db, int patients, int site)
    {
        foreach (var file in new[] { db, db + "-wal", db + "-shm" }) File.Delete(file);
        var clock = Stopwatch.StartNew();
        SyntheticSite.Build(db, patients, seed: 1000 + site);
        LedgerBench.GrantResearchConsent(db, 0.9);
        using (var connection = SiteDatabase.Open(db))
        {
            // The bench patient: the one with the richest history among the first few thousand.
            using var richest = connection.CreateCommand();
            richest.CommandText = "SELECT pid FROM fact WHERE pid <= 5000 GROUP BY pid ORDER BY COUNT(*) DESC, pid LIMIT 1";
            var benchPid = (long)richest.ExecuteScalar()!;
            SiteDatabase.Execute(connection, $"""
                BEGIN;
                UPDATE patient SET kvnr = printf('N%02d%07d', {site}, pid) WHERE pid <> {benchPid};
                UPDATE patient SET kvnr = '{Kvnr}' WHERE pid = {benchPid};
                INSERT INTO consent_provision(pid, policy, permit, source) VALUES ({benchPid}, '{ConsentPolicies.CareSharing}', 1, 'Consent/bench');
                COMMIT;
                """);
            SiteDatabase.BumpDataVersion(connection);
            var approvals = new QueryApproval(connection);
            approvals.Approve(QueryTypes.CohortCount, null, null);
            approvals.Approve(QueryTypes.PatientSummary, null, null);
            LinkagePseudonym.FillMissing(connection, Key);
            SiteDatabase.Execute(connection, "INSERT INTO meta(key, value) VALUES ('bench_network', '1') ON CONFLICT(key) DO UPDATE SET value = excluded.value; PRAGMA wal_checkpoint(TRUNCATE);");
        }
        SqliteConnection.ClearAllPools();
        Console.Error.WriteLine($"network scale: built {db} in {clock.Elapsed.TotalSeconds:0} s");
    }

    static string Row(string what, int nodes, int patients, List<double> times, List<double>? baseline, string note) =>
        string.Create(CultureInfo.InvariantCulture,
            $"| {what} | {nodes} | {patients:N0} | {Percentile.Of(times, 50):0.0} | {Percentile.Of(times, 95):0.0} | {(baseline is null ? "" : $"{Percentile.Of(times, 50) / Percentile.Of(baseline, 50):0.00}x")} | {note} |");
}
