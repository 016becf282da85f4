using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Midia.Bench.Node;
using Midia.CertsDev;
using Midia.Coordinator.Quota;
using Midia.Coordinator.Serve;
using Midia.Node.Care;
using Midia.Node.Consent;
using Midia.Node.Linkage;
using Midia.Node.Policy;
using Midia.Node.Research;
using Midia.Node.Store;
using Midia.Node.Transparency;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Midia.Rpc.Client;
using Midia.Rpc.Server;
using Midia.Rpc.Tls;
using static Midia.Bench.Loopback;

namespace Midia.Bench.Network;

/// <summary>
/// A whole network at scale on one machine: N real nodes (wired as `midia-node serve` wires them:
/// research queries, patient care, network consent) over N synthetic sites of P patients each
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
        var nodes = new List<SiteProcess>();
        try
        {
            var coordinatorPort = FreePort();
            var ports = Enumerable.Range(0, nodeCount).Select(_ => FreePort()).ToList();
            var sitesFile = Path.Combine(folder, "sites.json");
            File.WriteAllText(sitesFile, JsonSerializer.Serialize(ports.Select((p, i) => new { id = $"site-{i}", address = $"https://127.0.0.1:{p}" })));
            var coordinatorTls = Material(authority, "coordinator", "coordinator", null, disposables);
            await using var coordinator = await CoordinatorServer.StartAsync(
                new CoordinatorSettings(new IPEndPoint(IPAddress.Loopback, coordinatorPort), coordinatorTls, Path.Combine(folder, "coordinator.db"), sitesFile)
                { Quota = new QuotaOptions { PerMinute = int.MaxValue, Per7Days = int.MaxValue } }, NullLoggerFactory.Instance);
            for (var i = 0; i < nodeCount; i++)
                nodes.Add(await SiteProcess.StartAsync($"site-{i}", Path.Combine(folder, $"site-{i}.db"), ports[i], coordinatorPort, Material(authority, "node", $"node-{i}", $"site-{i}", disposables)));

            var rows = new List<string>();
            var researcherTls = Material(authority, "researcher", "Scale Researcher", null, disposables);
            var clinicianTls = Material(authority, "clinician", "Scale Clinician", "site-0", disposables);
            var homeNodeTls = Material(authority, "node", "node-0", "site-0", disposables);
            var siteNode = NodeReflection.Descriptor.Services.Single(s => s.Name == "SiteNode");
            var patientCare = NodeReflection.Descriptor.Services.Single(s => s.Name == "PatientCare");
            static CallOptions Options() => new(Deadline: DateTime.UtcNow.AddSeconds(60));

            // Federated count beside the slowest node asked alone (as the coordinator asks it).
            var directRuns = Math.Max(5, iterations / 2);
            var slowestCount = new List<double>();
            foreach (var node in nodes)
            {
                using var channel = RpcChannel.ForAddress(node.Address, new RpcChannelOptions { Tls = coordinatorTls });
                var invoker = channel.CreateCallInvoker();
                var method = Method<CohortCountRequest, CohortCountReply>.From(siteNode, "CohortCount");
                var user = new EndUser { Name = "Scale Researcher", Role = "researcher" };
                var times = await TimeAsync(directRuns, 5, async n =>
                {
                    var reply = await invoker.AsyncUnaryCall(method, Options(), new CohortCountRequest { User = user, CcdlJson = Query($"direct {n}"), QueryId = $"direct-{n}" }).ResponseAsync;
                    if (reply.Count is null) throw new InvalidOperationException("a node did not release a count");
                });
                if (slowestCount.Count == 0 || Percentile.Of(times, 50) > Percentile.Of(slowestCount, 50)) slowestCount = times;
            }
            rows.Add(Row("slowest node's own count (CohortCount, direct call)", nodeCount, patients, slowestCount, null, $"{directRuns} calls per node"));

            using (var channel = RpcChannel.ForAddress(coordinator.Address, new RpcChannelOptions { Tls = researcherTls }))
            {
                var invoker = channel.CreateCallInvoker();
                var count = Method<CountRequest, CountEvent>.From(CoordinatorReflection.Descriptor.Services.Single(s => s.Name == "Research"), "Count");
                var federated = await TimeAsync(iterations, 5, async n =>
                {
                    using var call = invoker.AsyncServerStreamingCall(count, Options(), new CountRequest { CcdlJson = Query($"federated {n}") });
                    CountTotal? total = null;
                    while (await call.ResponseStream.MoveNext(CancellationToken.None))
                        if (call.ResponseStream.Current.EventCase == CountEvent.EventOneofCase.Total) total = call.ResponseStream.Current.Total;
                    if (total is null || total.SitesCounted != nodeCount) throw new InvalidOperationException($"a federated count came back incomplete ({total?.SitesCounted} of {nodeCount} sites)");
                });
                rows.Add(Row("federated count (researcher → coordinator → every node → total)", nodeCount, patients, federated, slowestCount, "the nodes share the machine's cores"));
            }

            // A clinician's summary of a patient every site knows, beside the slowest site's own part.
            var linkage = LinkagePseudonym.Of(Key, Kvnr, null, null, null, null)!;
            var slowestPart = new List<double>();
            foreach (var node in nodes)
            {
                using var channel = RpcChannel.ForAddress(node.Address, new RpcChannelOptions { Tls = coordinatorTls });
                var invoker = channel.CreateCallInvoker();
                var part = Method<PatientSummaryRequest, PatientSummaryReply>.From(patientCare, "PatientSummary");
                var times = await TimeAsync(directRuns, 5, async _ =>
                {
                    var reply = await invoker.AsyncUnaryCall(part, Options(), new PatientSummaryRequest { User = new() { Name = "Scale Clinician", Role = "clinician", Site = "site-0" }, Linkage = linkage }).ResponseAsync;
                    if (reply.Entries.Count == 0) throw new InvalidOperationException("a site released nothing for the bench patient");
                });
                if (slowestPart.Count == 0 || Percentile.Of(times, 50) > Percentile.Of(slowestPart, 50)) slowestPart = times;
            }
            rows.Add(Row("slowest site's own summary part (PatientSummary, direct call)", nodeCount, patients, slowestPart, null, $"{directRuns} calls per site"));
            using (var nodeChannel = RpcChannel.ForAddress(nodes[0].Address, new RpcChannelOptions { Tls = clinicianTls }))
            using (var coordinatorChannel = RpcChannel.ForAddress(coordinator.Address, new RpcChannelOptions { Tls = clinicianTls }))
            {
                var home = nodeChannel.CreateCallInvoker();
                var care = coordinatorChannel.CreateCallInvoker();
                var resolve = Method<ResolvePatientRequest, ResolvePatientReply>.From(patientCare, "ResolvePatient");
                var summary = Method<SummaryRequest, SummaryReply>.From(CoordinatorReflection.Descriptor.Services.Single(s => s.Name == "Care"), "Summary");
                var entries = 0;
                var summaries = await TimeAsync(iterations, 5, async _ =>
                {
                    var ticket = (await home.AsyncUnaryCall(resolve, Options(), new ResolvePatientRequest { Kvnr = Kvnr }).ResponseAsync).Ticket;
                    var reply = await care.AsyncUnaryCall(summary, Options(), new SummaryRequest { Site = "site-0", Ticket = ticket }).ResponseAsync;
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
            foreach (var node in nodes)
            {
                using var channel = RpcChannel.ForAddress(node.Address, new RpcChannelOptions { Tls = coordinatorTls });
                var invoker = channel.CreateCallInvoker();
                var part = Method<Midia.Protos.Node.V1.PatientReportRequest, Midia.Protos.Node.V1.PatientReportReply>.From(patientCare, "PatientReport");
                var times = await TimeAsync(directRuns, 5, async n =>
                    await invoker.AsyncUnaryCall(part, Options(), new Midia.Protos.Node.V1.PatientReportRequest { User = nodeUser, Linkage = linkage, RequestId = $"direct-{n}" }).ResponseAsync);
                if (slowestReport.Count == 0 || Percentile.Of(times, 50) > Percentile.Of(slowestReport, 50)) slowestReport = times;
            }
            rows.Add(Row("slowest site's own report part (PatientReport, direct call)", nodeCount, patients, slowestReport, null, $"{directRuns} calls per site"));
            using (var channel = RpcChannel.ForAddress(coordinator.Address, new RpcChannelOptions { Tls = homeNodeTls }))
            {
                var invoker = channel.CreateCallInvoker();
                var report = Method<Midia.Protos.Coordinator.V1.PatientReportRequest, Midia.Protos.Coordinator.V1.PatientReportReply>.From(CoordinatorReflection.Descriptor.Services.Single(s => s.Name == "Care"), "PatientReport");
                var reports = await TimeAsync(iterations, 5, async _ =>
                {
                    var reply = await invoker.AsyncUnaryCall(report, Options(), new Midia.Protos.Coordinator.V1.PatientReportRequest { Linkage = linkage }).ResponseAsync;
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
        SiteProcess? node = null;
        try
        {
            // The node's consent sync has no coordinator to reach here; it retries quietly in the background.
            node = await SiteProcess.StartAsync("site-0", db, FreePort(), FreePort(), Material(authority, "node", "node-0", "site-0", disposables));
            using var channel = RpcChannel.ForAddress(node.Address, new RpcChannelOptions { Tls = Material(authority, "coordinator", "coordinator", null, disposables) });
            var invoker = channel.CreateCallInvoker();
            var siteNode = NodeReflection.Descriptor.Services.Single(s => s.Name == "SiteNode");
            var patientCare = NodeReflection.Descriptor.Services.Single(s => s.Name == "PatientCare");
            var count = Method<CohortCountRequest, CohortCountReply>.From(siteNode, "CohortCount");
            var part = Method<PatientSummaryRequest, PatientSummaryReply>.From(patientCare, "PatientSummary");
            var researcher = new EndUser { Name = "Capacity Researcher", Role = "researcher" };
            var clinician = new EndUser { Name = "Capacity Clinician", Role = "clinician", Site = "site-1" };
            var linkage = LinkagePseudonym.Of(Key, Kvnr, null, null, null, null)!;
            static CallOptions Options() => new(Deadline: DateTime.UtcNow.AddSeconds(60));

            var table = new StringBuilder();
            table.AppendLine($"One node over {patients:N0} synthetic patients, asked over mutual TLS on loopback as the coordinator asks it, {inFlight} calls in flight for {seconds} s per workload after 5 warm-up calls.");
            table.AppendLine();
            table.AppendLine("| workload | in flight | calls | per second | p50 ms | p95 ms |");
            table.AppendLine("|---|---:|---:|---:|---:|---:|");
            table.AppendLine(await Sustain("cohort counts (men, C61, PSA > 4: approval, CCDL, consent, disclosure, audit, ledger)", seconds, inFlight, async n =>
            {
                var reply = await invoker.AsyncUnaryCall(count, Options(), new CohortCountRequest { User = researcher, CcdlJson = Query($"capacity {n}"), QueryId = $"capacity-{n}" }).ResponseAsync;
                if (reply.Count is null) throw new InvalidOperationException("the node did not release a count");
            }));
            table.AppendLine(await Sustain("summary parts (PatientSummary for one patient, another site's clinician)", seconds, inFlight, async _ =>
            {
                var reply = await invoker.AsyncUnaryCall(part, Options(), new PatientSummaryRequest { User = clinician, Linkage = linkage }).ResponseAsync;
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

    /// <summary>One site's node, wired as `midia-node serve` wires it, plus a consent desk writing to its outbox.</summary>
    sealed class SiteProcess : IAsyncDisposable
    {
        readonly SqliteConnection desk;
        readonly ConsentLedger ledger;
        readonly SiteSessions sessions;
        readonly RpcChannel channel;
        readonly ConsentSync sync;
        readonly RpcServer server;

        SiteProcess(SqliteConnection desk, SiteSessions sessions, NetworkConsent consent, RpcChannel channel, ConsentSync sync, RpcServer server)
        {
            (this.desk, this.sessions, Consent, this.channel, this.sync, this.server) = (desk, sessions, consent, channel, sync, server);
            ledger = new ConsentLedger(desk);
        }

        public NetworkConsent Consent { get; }
        public Uri Address => server.Address;

        public static async Task<SiteProcess> StartAsync(string site, string db, int port, int coordinatorPort, TlsMaterial tls)
        {
            var sessions = new SiteSessions(db, Math.Max(2, Environment.ProcessorCount));
            var server = new RpcServer(new RpcServerOptions { Listen = new IPEndPoint(IPAddress.Loopback, port), Tls = tls }, NullLoggerFactory.Instance);
            server.AddService(NodeReflection.Descriptor.Services[0], new ResearchQueries(site, sessions));
            var consent = new NetworkConsent(db, site);
            var channel = RpcChannel.ForAddress(new Uri($"https://127.0.0.1:{coordinatorPort}"), new RpcChannelOptions { Tls = tls });
            var sync = new ConsentSync(consent, Key, channel.CreateCallInvoker(), NullLogger.Instance);
            server.AddService(ConsentReceiver.Descriptor, new ConsentReceiver(consent, sync));
            server.AddService(PatientCare.Descriptor, new PatientCare(site, sessions, Key, new PatientReports(site, sessions)));
            await server.StartAsync();
            return new SiteProcess(SiteDatabase.Open(db), sessions, consent, channel, sync, server);
        }

        public void Record(long pid, bool permit)
        {
            lock (ledger) ledger.Record(pid, ConsentPolicies.Research, permit, Days.Today(), null);
            sync.Wake();
        }

        public async ValueTask DisposeAsync()
        {
            await server.DisposeAsync();
            await sync.DisposeAsync();
            channel.Dispose();
            Consent.Dispose();
            desk.Dispose();
            sessions.Dispose();
        }
    }
}
