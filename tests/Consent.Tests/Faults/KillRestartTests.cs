using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Midia.Consent.Tests.Support;
using Midia.Node.Consent;
using Midia.Node.Policy;
using Midia.Node.Store;
using Midia.Protos.Coordinator.V1;
using Grpc.Core;
using static Midia.Consent.Tests.Support.ClinicalFact;

namespace Midia.Consent.Tests.Faults;

/// <summary>
/// `midia-coordinator serve` and three `midia-node serve` processes under a mixed workload —
/// federated counts, clinicians' summaries, `consent set` changes at the patients' home sites —
/// while a seeded injector kills (SIGKILL) a random one of them at random moments and restarts it.
/// After recovery: every request ended with an answer or a status (no hang, no exception without
/// a status); every consent change is logged once and applied at every site, and each patient's
/// consent is the last change made; every site holds exactly one audit entry per request id, and
/// one for every request the coordinator reported it answered or refused.
/// </summary>
public sealed class KillRestartTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    const int Patients = 6;
    const int MaxOperations = 5000;
    const int Seed = 20261205;
    static readonly string[] Sites = ["erlangen", "munich", "berlin"];

    readonly ConsentNetwork network = new(Sites);
    readonly Dictionary<string, Process> running = [];
    readonly Lock processes = new();

    public Task InitializeAsync()
    {
        foreach (var site in Sites)
        {
            var node = network[site];
            node.ImportFhir("patients.json", ClinicalRecord.Bundle(Enumerable.Range(0, Patients).Select(i =>
                new ClinicalRecord(Local(i, site), $"K{i:D9}", "Muster", $"P{i}", new DateOnly(1950 + i, 1, 1), "female", true,
                    [Condition("http://fhir.de/CodeSystem/bfarm/icd-10-gm", "C50.4", "Brustkrebs", new DateOnly(2019, 3, 10 + i))])).ToArray()));
            node.Approve(QueryTypes.CohortCount);
            node.Approve(QueryTypes.PatientSummary);
        }
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        lock (processes) foreach (var name in running.Keys.ToList()) Kill(name);
        await network.DisposeAsync();
    }

    sealed record Change(string Site, long OutboxId, int Patient, string Policy, bool Permit);

    [Fact]
    public async Task Killing_and_restarting_nodes_and_the_coordinator_during_a_mixed_workload_loses_no_consent_change_and_no_audit_entry()
    {
        foreach (var name in new[] { "coordinator" }.Concat(Sites)) Start(name);
        foreach (var name in new[] { "coordinator" }.Concat(Sites)) await Listening(name);

        var researcher = network.Client("researcher", "Dr Rita Researcher", null);
        var clinicianAtNode = network.Client("clinician", "Dr Clara Clinician", "erlangen", node: "erlangen");
        var clinician = network.Client("clinician", "Dr Clara Clinician", "erlangen");
        var counts = new List<CountOutcome>();
        var summaries = new List<SummaryReply>();
        var changes = new List<Change>();
        var outcomes = new List<string>();
        var kills = new List<string>();

        // The injector's plan: every server process killed twice, in a seeded order, at seeded moments.
        var injector = new Random(Seed);
        var plan = new[] { "coordinator" }.Concat(Sites).Concat(new[] { "coordinator" }.Concat(Sites)).OrderBy(_ => injector.Next()).ToList();
        using var stop = new CancellationTokenSource();
        var next = -1;
        var started = 0;
        var workload = Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            for (var n = Interlocked.Increment(ref next); n < MaxOperations && !stop.IsCancellationRequested; n = Interlocked.Increment(ref next))
            {
                Interlocked.Increment(ref started);
                var random = new Random(HashCode.Combine(Seed, n));
                var kind = random.Next(10) switch { < 4 => "count", < 7 => "summary", _ => "consent" };
                string outcome;
                try
                {
                    switch (kind)
                    {
                        case "count":
                            var count = await Requests.CountAsync(researcher, Requests.BreastCancerQuery(n));
                            lock (counts) counts.Add(count);
                            outcome = count.Total is null ? "no total" : "ok";
                            break;
                        case "summary":
                            var summary = await Requests.SummaryAsync(clinicianAtNode, clinician, "erlangen", Local(random.Next(Patients), "erlangen"));
                            lock (summaries) summaries.Add(summary);
                            outcome = "ok";
                            break;
                        default:
                            var patient = random.Next(Patients);
                            var change = ConsentSet(patient, random.Next(2) == 0 ? ConsentPolicies.Research : ConsentPolicies.CareSharing, random.Next(2) == 0);
                            lock (changes) changes.Add(change);
                            outcome = "ok";
                            break;
                    }
                }
                catch (RpcException e) { outcome = $"status {e.StatusCode}: {e.Status.Detail}"; }
                catch (Exception e) { outcome = $"EXCEPTION {e.GetType().Name}: {e.Message}"; }
                lock (outcomes) outcomes.Add($"{n} {kind}: {outcome}");
                await Task.Delay(random.Next(50));
            }
        })));

        // SIGKILL one server process at a seeded moment, start it again a little later; the workload goes on throughout.
        foreach (var victim in plan)
        {
            await Task.Delay(injector.Next(200, 1500));
            lock (processes) Kill(victim);
            kills.Add(victim);
            await Task.Delay(injector.Next(200, 1500));
            Start(victim);
            await Listening(victim);
        }
        await Task.Delay(1000);
        stop.Cancel();
        await workload;
        output.WriteLine($"kills: {string.Join(", ", kills)}");
        foreach (var o in outcomes.OrderBy(o => int.Parse(o.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture))) output.WriteLine(o);
        foreach (var c in counts) output.WriteLine($"count {c.QueryId}: {string.Join(", ", c.Sites.Values.Select(s => $"{s.Site} {s.Status} {s.Message}"))}");
        foreach (var r in summaries) output.WriteLine($"summary {r.RequestId}: {string.Join(", ", r.Sites.Select(s => $"{s.Site} {s.Status}"))}");

        // Every request ended with an answer or a status; a hang would have hit the client's 90 s deadline.
        Assert.Equal(Volatile.Read(ref started), outcomes.Count);
        Assert.True(outcomes.Count > plan.Count, "the workload ran throughout the kills");
        Assert.Equal(plan, kills);
        Assert.DoesNotContain(outcomes, o => o.Contains("EXCEPTION", StringComparison.Ordinal));
        Assert.DoesNotContain(outcomes, o => o.Contains("status Unknown", StringComparison.Ordinal) || o.Contains("status DeadlineExceeded", StringComparison.Ordinal));
        Assert.Contains(outcomes, o => o.EndsWith(": ok", StringComparison.Ordinal));
        Assert.All(counts.SelectMany(c => c.Sites.Values), s => Assert.Contains(s.Status, new[] { SiteStatus.Ok, SiteStatus.Unavailable, SiteStatus.Timeout }));

        // Recovery: every change logged once and applied at every site.
        var total = changes.Count;
        Assert.True(total > 0, "the workload made consent changes");
        await ConsentNetwork.Eventually(() => network.Log().Count == total
            && Sites.All(s => network[s].Network().Cursor == total && network[s].Rows("SELECT COUNT(*) FROM consent_change WHERE seq IS NULL").Single() == "0"),
            $"all {total} consent changes logged and applied at every site after the restarts (kills: {string.Join(", ", kills)})", seconds: 120);
        var log = network.Log();
        Assert.Equal(changes.Select(c => (c.Site, c.OutboxId)).Order(), log.Select(l => (l.Origin, l.OriginId)).Order());
        foreach (var site in Sites)
            Assert.All(network[site].Network().RowsPerSeq.Values, rows => Assert.Equal(1, rows));

        // Each patient's consent at every site is the last change made for it (changes of one patient are made at its home site, in outbox order).
        foreach (var last in changes.GroupBy(c => (c.Patient, c.Policy)).Select(g => g.MaxBy(c => c.OutboxId)!))
            foreach (var site in Sites)
                Assert.True(last.Permit == network[site].Permitted(Local(last.Patient, site), last.Policy),
                    $"{site}: patient {last.Patient} {last.Policy} should be {(last.Permit ? "permitted" : "denied")} (last change #{last.OutboxId} at {last.Site})");

        // Audit: exactly one entry per request id at every site, and one for every site answer the coordinator reported.
        var audits = Sites.ToDictionary(s => s, s => Requests.AuditByRequest(network[s]));
        foreach (var (site, audit) in audits)
            Assert.All(audit, entry => Assert.True(entry.Value.Count == 1, $"{site}: request {entry.Key} has {entry.Value.Count} audit entries: {string.Join(", ", entry.Value)}"));
        foreach (var count in counts)
            foreach (var (site, result) in count.Sites.Where(s => s.Value.Status == SiteStatus.Ok))
                Assert.True(audits[site].TryGetValue(count.QueryId, out var rows) && rows.SequenceEqual(["answered"]), $"{site}: count {count.QueryId} answered but not audited once");
        foreach (var summary in summaries)
            foreach (var part in summary.Sites.Where(s => s.Status is SiteStatus.Ok or SiteStatus.NotShared))
                Assert.True(audits[part.Site].TryGetValue(summary.RequestId, out var rows) && rows.SequenceEqual([part.Status == SiteStatus.Ok ? "answered" : "refused"]),
                    $"{part.Site}: summary {summary.RequestId} {part.Status} but not audited once");
    }

    static string Local(int patient, string site) => $"p{patient}-{site}";

    /// <summary>`midia-node consent set` at the patient's home site (a write to its database: it works whether or not its node runs).</summary>
    Change ConsentSet(int patient, string policy, bool permit)
    {
        var site = Sites[patient % Sites.Length];
        using var connection = SiteDatabase.Open(network[site].DbPath);
        var pid = LocalPatient.Find(connection, null, Local(patient, site));
        var id = new ConsentLedger(connection).Record(pid, policy, permit, Days.Today(), null);
        return new Change(site, id, patient, policy, permit);
    }

    void Start(string name)
    {
        Process process;
        if (name == "coordinator")
        {
            var (cert, key, ca, _) = network.WritePem("coordinator", "coordinator");
            process = Run("midia-coordinator.dll", new()
            {
                ["MIDIA_QUOTA__PERMINUTE"] = "100000", ["MIDIA_QUOTA__PER7DAYS"] = "100000",
                // A restarted node is asked again soon, not after the default 30 s break.
                ["MIDIA_FANOUT__BREAKDURATION"] = "00:00:01",
            }, "serve", "--listen", $"127.0.0.1:{network.CoordinatorPort}", "--cert", cert, "--key", key, "--ca", ca, "--db", network.CoordinatorDb, "--sites", network.SitesFile);
        }
        else
        {
            var (cert, key, ca, linkage) = network.WritePem("node", $"node-{name}", name);
            var node = network[name];
            process = Run("midia-node.dll", [], "serve", "--site", name, "--db", node.DbPath, "--listen", node.Address["https://".Length..],
                "--cert", cert, "--key", key, "--ca", ca, "--coordinator", $"https://127.0.0.1:{network.CoordinatorPort}", "--linkage-key", linkage);
        }
        lock (processes) running[name] = process;
    }

    async Task Listening(string name)
    {
        var port = name == "coordinator" ? network.CoordinatorPort : new Uri(network[name].Address).Port;
        var until = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < until) { await Task.Delay(50); }
        }
    }

    void Kill(string name)
    {
        if (!running.Remove(name, out var process)) return;
        if (!process.HasExited) process.Kill(entireProcessTree: true);   // SIGKILL: no shutdown, no flush
        process.WaitForExit();
        process.Dispose();
    }

    static Process Run(string dll, Dictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment) start.Environment[k] = v;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
