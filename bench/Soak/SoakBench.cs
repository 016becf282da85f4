using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Data.Sqlite;
using Midia.CertsDev;
using Midia.Node.Consent;
using Midia.Node.Linkage;
using Midia.Node.Policy;
using Midia.Node.Store;
using Grpc.Core;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Midia.Trust;
using static Midia.Bench.Loopback;
using CareClient = Midia.Protos.Coordinator.V1.Care.CareClient;
using PatientCareClient = Midia.Protos.Node.V1.PatientCare.PatientCareClient;

namespace Midia.Bench.Soak;

/// <summary>
/// Sustained load (issue 8 part 5): `midia-node serve` ×N and `midia-coordinator serve`, each its
/// own process on loopback, under a paced mix of federated counts, clinician summaries and
/// `consent set` changes for a fixed time; then throughput, p50/p99 per operation, outcomes by
/// status, every server process's memory after warm-up and at the end against a stated bound,
/// and whether every consent change reached every site. Bounded: stops by itself, at most
/// --in-flight operations at once (an operation due while all slots are busy is skipped and counted).
/// </summary>
public static class SoakBench
{
    const string Kvnr = "S000000001";
    const double BoundMb = 50;

    sealed record Options(double Minutes, int Sites, double Rate, int InFlight, int Seed, int Background)
    {
        public static Options Parse(string[] args)
        {
            string? Get(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
            double D(string name, double fallback) => Get(name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
            var o = new Options(D("--minutes", 10), (int)D("--sites", 3), D("--rate", 10), (int)D("--in-flight", 16), (int)D("--seed", 8), (int)D("--background", 2000));
            if (o.Minutes <= 0 || o.Minutes > 120) throw new ArgumentException("--minutes must be in (0, 120]");
            if (o.Sites is < 1 or > 20) throw new ArgumentException("--sites must be 1..20");
            if (o.Rate <= 0 || o.Rate > 1000) throw new ArgumentException("--rate must be in (0, 1000] operations per second");
            return o;
        }
    }

    sealed record Sample(string Operation, string Outcome, double Milliseconds);

    public static async Task<int> RunAsync(string[] args)
    {
        Options options;
        try { options = Options.Parse(args); }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            Console.Error.WriteLine($"error: soak: {e.Message}");
            return 2;
        }
        var folder = Directory.CreateTempSubdirectory("midia-soak-").FullName;
        var servers = new List<ServerProcess>();
        try
        {
            using var authority = DevCertificates.CreateAuthority("Soak Bench CA");
            var key = LinkageKey.FromSecret("a benchmark linkage secret of at least 32 bytes"u8);
            var ca = Path.Combine(folder, "ca.crt");
            File.WriteAllText(ca, authority.ExportCertificatePem());
            var linkageFile = Path.Combine(folder, "linkage.key");
            DevCertificates.WriteSecret(linkageFile, "a benchmark linkage secret of at least 32 bytes");

            // Sites: the summary benchmark's data (a rich-history patient at every site among
            // background patients), with research consent for every patient and both query types approved.
            var clock = Stopwatch.StartNew();
            var coordinatorPort = FreePort();
            var sites = new List<(string Id, string Db, int Port)>();
            for (var i = 0; i < options.Sites; i++)
            {
                var id = $"site-{i}";
                var db = Path.Combine(folder, id + ".db");
                Care.SummaryBench.Fill(db, i, 240, options.Background, key);
                using (var connection = SiteDatabase.Open(db))
                {
                    SiteDatabase.Execute(connection, $"INSERT INTO consent_provision(pid, policy, permit, source) SELECT pid, '{ConsentPolicies.Research}', 1, 'Consent/soak' FROM patient");
                    SiteDatabase.BumpDataVersion(connection);
                    new QueryApproval(connection).Approve(QueryTypes.CohortCount, null, null);
                }
                sites.Add((id, db, FreePort()));
            }
            var sitesFile = Path.Combine(folder, "sites.json");
            File.WriteAllText(sitesFile, "[" + string.Join(",", sites.Select(s => $$"""{"id": "{{s.Id}}", "address": "https://127.0.0.1:{{s.Port}}"}""")) + "]");

            // The nodes first: the coordinator opens its line to every site as it starts. The nodes'
            // consent sync waits for the coordinator and catches up once it listens.
            foreach (var (id, db, port) in sites)
            {
                var (cert, certKey) = Pem(authority, folder, "node", "node-" + id, id);
                servers.Add(ServerProcess.Start(id, folder, "midia-node.dll", port,
                    ["serve", "--site", id, "--db", db, "--listen", $"127.0.0.1:{port}", "--cert", cert, "--key", certKey, "--ca", ca,
                     "--coordinator", $"https://127.0.0.1:{coordinatorPort}", "--linkage-key", linkageFile], []));
            }
            foreach (var server in servers) await server.WaitListeningAsync(TimeSpan.FromSeconds(120));
            var (coordinatorCert, coordinatorKey) = Pem(authority, folder, "coordinator", "coordinator", null);
            servers.Insert(0, ServerProcess.Start("coordinator", folder, "midia-coordinator.dll", coordinatorPort,
                ["serve", "--listen", $"127.0.0.1:{coordinatorPort}", "--cert", coordinatorCert, "--key", coordinatorKey, "--ca", ca, "--db", Path.Combine(folder, "coordinator.db"), "--sites", sitesFile],
                new() { ["MIDIA_QUOTA__PERMINUTE"] = "1000000", ["MIDIA_QUOTA__PER7DAYS"] = "100000000" }));
            await servers[0].WaitListeningAsync(TimeSpan.FromSeconds(120));
            Console.Error.WriteLine($"soak: {options.Sites} sites filled, {servers.Count} server processes listening after {clock.Elapsed.TotalSeconds:0.0} s");

            using var researcherTls = Material(authority, "researcher", "Soak Researcher", null);
            using var clinicianTls = Material(authority, "clinician", "Soak Clinician", "site-0");
            using var researcherChannel = NetworkChannel.Open(new Uri($"https://127.0.0.1:{coordinatorPort}"), researcherTls, new ServerPin("coordinator"));
            using var careChannel = NetworkChannel.Open(new Uri($"https://127.0.0.1:{coordinatorPort}"), clinicianTls, new ServerPin("coordinator"));
            using var homeChannel = NetworkChannel.Open(new Uri($"https://127.0.0.1:{sites[0].Port}"), clinicianTls, new ServerPin("node", "site-0"));
            var load = new Load(new Research.ResearchClient(researcherChannel.Invoker), new CareClient(careChannel.Invoker), new PatientCareClient(homeChannel.Invoker),
                sites.Select(s => s.Db).ToList(), options.Sites, options.Background, options.Seed);

            var duration = TimeSpan.FromMinutes(options.Minutes);
            var warmUp = TimeSpan.FromSeconds(Math.Min(60, duration.TotalSeconds / 5));
            var samples = new ConcurrentBag<Sample>();
            var skipped = 0;
            var afterWarmUp = new Dictionary<string, Memory>();
            var slots = new SemaphoreSlim(options.InFlight);
            var running = new List<Task>();
            var interval = TimeSpan.FromSeconds(1 / options.Rate);
            var started = Stopwatch.StartNew();
            var warm = false;
            for (long n = 0; ; n++)
            {
                var due = interval * n;
                if (due >= duration) break;
                var wait = due - started.Elapsed;
                if (wait > TimeSpan.Zero) await Task.Delay(wait);
                if (!warm && started.Elapsed >= warmUp)
                {
                    warm = true;
                    foreach (var server in servers) afterWarmUp[server.Name] = server.Memory();
                    Console.Error.WriteLine($"soak: warm-up over after {warmUp.TotalSeconds:0} s ({n} operations issued); measuring");
                }
                if (!slots.Wait(0))
                {
                    skipped++;
                    continue;
                }
                var operation = load.Pick(n);
                running.Add(Task.Run(async () =>
                {
                    try
                    {
                        var t = Stopwatch.GetTimestamp();
                        var outcome = await load.RunAsync(operation, n);
                        if (warm) samples.Add(new Sample(operation, outcome, Stopwatch.GetElapsedTime(t).TotalMilliseconds));
                    }
                    finally { slots.Release(); }
                }));
                if (running.Count > 4096) running.RemoveAll(t => t.IsCompleted);
            }
            await Task.WhenAll(running);
            var elapsed = started.Elapsed - warmUp;
            var atEnd = servers.ToDictionary(s => s.Name, s => s.Memory());

            // Every change made here must be logged by the coordinator and applied at every site.
            var converged = await load.ConvergedAsync(TimeSpan.FromSeconds(120));
            var exits = servers.Where(s => s.HasExited).Select(s => s.Name).ToList();

            Report(options, samples.ToList(), skipped, elapsed, afterWarmUp, atEnd, converged, exits, load.ConsentChanges);
            var memoryOk = servers.All(s => atEnd[s.Name].RssMb <= afterWarmUp[s.Name].RssMb + BoundMb);
            var unexpected = samples.Count(s => s.Outcome.StartsWith("exception", StringComparison.Ordinal));
            var pass = memoryOk && converged.Ok && exits.Count == 0 && unexpected == 0;
            Console.WriteLine();
            Console.WriteLine($"{(pass ? "PASS" : "FAIL")}: memory bound {(memoryOk ? "held" : "exceeded")}, consent {(converged.Ok ? "converged" : "did not converge")}, " +
                $"{exits.Count} server processes died, {unexpected} operations ended in an exception without a gRPC status");
            return pass ? 0 : 1;
        }
        finally
        {
            foreach (var server in servers) server.Dispose();
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
    }

    static void Report(Options options, List<Sample> samples, int skipped, TimeSpan elapsed, Dictionary<string, Memory> start, Dictionary<string, Memory> end,
        (bool Ok, string Detail) converged, List<string> exits, int consentChanges)
    {
        var loadAverage = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
        Console.WriteLine();
        Console.WriteLine($"Sustained load: {options.Sites} `midia-node serve` + 1 `midia-coordinator serve` processes on loopback (mutual TLS), " +
            $"{options.Minutes.ToString(CultureInfo.InvariantCulture)} min, target {options.Rate.ToString(CultureInfo.InvariantCulture)} operations/s, at most {options.InFlight} in flight, seed {options.Seed}; " +
            $"{Environment.ProcessorCount} cores, load average {loadAverage} at the end. Figures after a warm-up of {Math.Min(60, options.Minutes * 60 / 5):0} s ({elapsed.TotalSeconds:0} s measured).");
        Console.WriteLine();
        Console.WriteLine("| operation | done | per s | p50 ms | p99 ms | max ms | outcomes |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---|");
        foreach (var group in samples.GroupBy(s => s.Operation).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var times = group.Select(s => s.Milliseconds).ToList();
            var outcomes = string.Join(", ", group.GroupBy(s => s.Outcome).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}"));
            Console.WriteLine($"| {group.Key} | {times.Count} | {times.Count / elapsed.TotalSeconds:0.0} | {Percentile.Of(times, 50):0.0} | {Percentile.Of(times, 99):0.0} | {times.Max():0.0} | {outcomes} |");
        }
        var all = samples.Count;
        var notOk = samples.Count(s => s.Outcome != "ok");
        Console.WriteLine($"| all | {all} | {all / elapsed.TotalSeconds:0.0} | | | | not ok: {notOk} ({(all == 0 ? 0 : 100.0 * notOk / all):0.00} %); skipped by the generator (all slots busy): {skipped} |");
        Console.WriteLine();
        Console.WriteLine($"Memory per server process (resident set from /proc; bound: end ≤ after warm-up + {BoundMb:0} MB):");
        Console.WriteLine();
        Console.WriteLine("| process | RSS after warm-up MB | RSS at end MB | growth MB | peak RSS MB | bound |");
        Console.WriteLine("|---|---:|---:|---:|---:|---|");
        foreach (var (name, s) in start)
        {
            var e = end[name];
            Console.WriteLine($"| {name} | {s.RssMb:0.0} | {e.RssMb:0.0} | {e.RssMb - s.RssMb:+0.0;-0.0} | {e.PeakMb:0.0} | {(e.RssMb <= s.RssMb + BoundMb ? "PASS" : "FAIL")} |");
        }
        Console.WriteLine();
        Console.WriteLine($"Consent: {consentChanges} changes made (`consent set` outbox writes at random sites); {converged.Detail}.");
        if (exits.Count > 0) Console.WriteLine($"Server processes that exited during the run: {string.Join(", ", exits)}.");
    }

    /// <summary>The operations and how each ends: "ok", a site-level status (e.g. "ok, site-1 timeout"), or the gRPC status.</summary>
    sealed class Load(Research.ResearchClient researcher, CareClient care, PatientCareClient home, List<string> dbs, int siteCount, int background, int seed)
    {
        int consentChanges;

        public int ConsentChanges => Volatile.Read(ref consentChanges);

        /// <summary>Half counts, 30 % summaries, 20 % consent changes; seeded, so every run asks the same sequence.</summary>
        public string Pick(long n)
        {
            var r = new Random(HashCode.Combine(seed, n)).Next(100);
            return r < 50 ? "federated count" : r < 80 ? "patient summary" : "consent set";
        }

        public async Task<string> RunAsync(string operation, long n)
        {
            try
            {
                return operation switch
                {
                    "federated count" => await CountAsync(n),
                    "patient summary" => await SummaryAsync(),
                    _ => ConsentSet(n),
                };
            }
            catch (RpcException e) { return e.StatusCode.ToString(); }
            catch (SqliteException e) { return $"sqlite {e.SqliteErrorCode}"; }
            catch (Exception e) { return $"exception {e.GetType().Name}"; }
        }

        /// <summary>Men with prostate cancer and a PSA above a threshold unique to this operation (so history never replays it).</summary>
        async Task<string> CountAsync(long n)
        {
            var threshold = (n % 100_000 / 10_000.0 + 1).ToString("0.0000", CultureInfo.InvariantCulture);
            var ccdl = """{"version": "2", "display": "soak @N", "inclusionCriteria": [[{"termCodes": [{"system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "code": "C61"}]}], [{"termCodes": [{"system": "http://loinc.org", "code": "2857-1"}], "valueFilter": {"type": "quantity-comparator", "comparator": "gt", "value": @T, "unit": {"code": "ng/mL"}}}]]}""".Replace("@N", n.ToString(CultureInfo.InvariantCulture)).Replace("@T", threshold);
            using var call = researcher.Count(new CountRequest { CcdlJson = ccdl }, deadline: DateTime.UtcNow.AddSeconds(60));
            var statuses = new List<SiteStatus>();
            CountTotal? total = null;
            await foreach (var e in call.ResponseStream.ReadAllAsync())
            {
                if (e.EventCase == CountEvent.EventOneofCase.Site) statuses.Add(e.Site.Status);
                if (e.EventCase == CountEvent.EventOneofCase.Total) total = e.Total;
            }
            if (total is null) return "no total";
            return SiteOutcome(statuses);
        }

        async Task<string> SummaryAsync()
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            var ticket = (await home.ResolvePatientAsync(new ResolvePatientRequest { Kvnr = Kvnr }, deadline: deadline)).Ticket;
            var reply = await care.SummaryAsync(new SummaryRequest { Site = "site-0", Ticket = ticket }, deadline: deadline);
            return SiteOutcome(reply.Sites.Select(s => s.Status).ToList());
        }

        string SiteOutcome(List<SiteStatus> statuses)
        {
            if (statuses.Count != siteCount) return $"{statuses.Count} of {siteCount} sites";
            var bad = statuses.Where(s => s != SiteStatus.Ok).GroupBy(s => s).Select(g => $"{g.Count()} site(s) {g.Key}").ToList();
            return bad.Count == 0 ? "ok" : "partial: " + string.Join(", ", bad);
        }

        /// <summary>`midia-node consent set` as the command does it: the outbox write at a random site for a random background patient's research consent.</summary>
        string ConsentSet(long n)
        {
            var random = new Random(HashCode.Combine(seed, n, 7));
            var db = dbs[random.Next(dbs.Count)];
            using var connection = SiteDatabase.Open(db);
            var pid = LocalPatient.Find(connection, null, $"bg-{random.Next(background)}");
            new ConsentLedger(connection).Record(pid, ConsentPolicies.Research, random.Next(2) == 0, Days.Today(), null);
            Interlocked.Increment(ref consentChanges);
            return "ok";
        }

        /// <summary>Every outbox row has its coordinator seq and every site's applied cursor is at the log's end.</summary>
        public async Task<(bool Ok, string Detail)> ConvergedAsync(TimeSpan within)
        {
            var clock = Stopwatch.StartNew();
            string detail = "";
            while (true)
            {
                var unsent = dbs.Sum(db => Scalar(db, "SELECT COUNT(*) FROM consent_change WHERE seq IS NULL"));
                var logged = dbs.Sum(db => Scalar(db, "SELECT COUNT(*) FROM consent_change"));
                var cursors = dbs.Select(db => Scalar(db, "SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'consent_applied_seq'), 0)")).ToList();
                var rows = dbs.Select(db => Scalar(db, "SELECT COUNT(*) FROM consent_provision WHERE seq IS NOT NULL")).ToList();
                detail = $"{logged - unsent} of {logged} got a network sequence number; every site's applied cursor {string.Join(" / ", cursors)}, network rows {string.Join(" / ", rows)}";
                if (unsent == 0 && cursors.All(c => c == logged) && rows.All(r => r == logged))
                    return (true, $"all {logged} logged by the coordinator and applied once at every site {clock.Elapsed.TotalSeconds:0.0} s after the load stopped ({detail})");
                if (clock.Elapsed > within) return (false, $"NOT converged within {within.TotalSeconds:0} s: {detail}");
                await Task.Delay(250);
            }
        }

        static long Scalar(string db, string sql)
        {
            using var connection = SiteDatabase.Open(db, readOnly: true);
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
    }

    sealed record Memory(double RssMb, double PeakMb);

    /// <summary>One server executable as an operator runs it, its output kept in a log file next to its database.</summary>
    sealed class ServerProcess : IDisposable
    {
        readonly Process process;
        readonly StreamWriter log;
        readonly int port;

        ServerProcess(string name, Process process, StreamWriter log, int port) => (Name, this.process, this.log, this.port) = (name, process, log, port);

        public string Name { get; }
        public bool HasExited => process.HasExited;

        public static ServerProcess Start(string name, string folder, string dll, int port, string[] args, Dictionary<string, string> environment)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = folder };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
            foreach (var a in args) start.ArgumentList.Add(a);
            foreach (var (k, v) in environment) start.Environment[k] = v;
            var log = new StreamWriter(Path.Combine(folder, name + ".log")) { AutoFlush = true };
            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return new ServerProcess(name, process, log, port);
        }

        public async Task WaitListeningAsync(TimeSpan within)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                if (process.HasExited) throw new InvalidOperationException($"{Name} exited with {process.ExitCode} before listening");
                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync(IPAddress.Loopback, port);
                    return;
                }
                catch (SocketException) when (clock.Elapsed < within) { await Task.Delay(100); }
            }
        }

        /// <summary>Resident set (VmRSS) and its peak (VmHWM) of the process, from /proc.</summary>
        public Memory Memory()
        {
            double Kb(string field) => File.ReadLines($"/proc/{process.Id}/status").Where(l => l.StartsWith(field + ":", StringComparison.Ordinal))
                .Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).FirstOrDefault();
            try { return new Memory(Kb("VmRSS") / 1024, Kb("VmHWM") / 1024); }
            catch (IOException) { return new Memory(double.NaN, double.NaN); }
        }

        public void Dispose()
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit();
            process.Dispose();
            lock (log) log.Dispose();
        }
    }

    static (string Cert, string Key) Pem(X509Certificate2 authority, string folder, string role, string name, string? site)
    {
        using var certificate = DevCertificates.Issue(authority, role, name, site);
        var prefix = Path.Combine(folder, name);
        DevCertificates.WritePem(certificate, prefix + ".crt", prefix + ".key");
        return (prefix + ".crt", prefix + ".key");
    }
}
