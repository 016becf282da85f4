using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Data.Sqlite;
using Midia.CertsDev;
using Midia.Coordinator.FanOut;
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

namespace Midia.Bench.Care;

/// <summary>
/// Cross-site patient summary latency end to end: a clinician resolves the patient at the own
/// site's node and asks the coordinator, which opens the ticket and asks 3 or 10 real nodes (wired
/// as `midia-node serve` wires them: PatientCare over SQLite; mutual TLS on every hop, loopback, one process) for a patient with a
/// rich history at every site — years of PSA, CA 15-3 and EDSS series, therapies, MRIs, staging —
/// among background patients; every site has care-sharing consent and patient-summary approved.
/// </summary>
public static class SummaryBench
{
    const string Kvnr = "S000000001";

    public static async Task<int> RunAsync(int iterations, int factsPerSite, int backgroundPatients)
    {
        Console.WriteLine(await TableAsync(iterations, factsPerSite, backgroundPatients));
        return 0;
    }

    /// <summary>The markdown table BENCHMARKS.md shows: 3 and 10 sites, each summary with its ratio to the slowest site's own part.</summary>
    public static async Task<string> TableAsync(int iterations, int factsPerSite, int backgroundPatients)
    {
        var folder = Path.Combine(Path.GetTempPath(), "midia-summary-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        try
        {
            using var authority = DevCertificates.CreateAuthority("Summary Bench CA");
            var rows = new List<string>();
            foreach (var sites in new[] { 3, 10 })
                rows.AddRange(await MeasureAsync(authority, folder, sites, iterations, factsPerSite, backgroundPatients));
            var table = new System.Text.StringBuilder();
            table.AppendLine($"The patient has {factsPerSite} facts at every site among {backgroundPatients:N0} other patients per site; {iterations} summaries per row after 20 warm-up ones (p50 / p95 in ms).");
            table.AppendLine();
            table.AppendLine("| measurement | sites | entries | p50 ms | p95 ms | note |");
            table.AppendLine("|---|---:|---:|---:|---:|---|");
            foreach (var row in rows) table.AppendLine(row);
            return table.ToString();
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
    }

    static async Task<List<string>> MeasureAsync(X509Certificate2 authority, string folder, int siteCount, int iterations, int factsPerSite, int backgroundPatients)
    {
        var key = LinkageKey.FromSecret("a benchmark linkage secret of at least 32 bytes"u8);
        // Named before it binds: the nodes dial it (consent). The nodes take any free port and start first.
        var coordinatorPort = FreePort();
        var nodes = new List<BenchNode>();
        var disposables = new List<IDisposable>();
        var rows = new List<string>();
        try
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < siteCount; i++)
            {
                var site = $"site-{i}";
                var db = Path.Combine(folder, $"{siteCount}-{site}.db");
                Fill(db, i, factsPerSite, backgroundPatients, key);
                nodes.Add(await BenchNode.StartAsync(site, db, new Uri($"https://127.0.0.1:{coordinatorPort}"), Material(authority, "node", $"node-{site}", site, disposables), key));
            }
            Console.Error.WriteLine($"summary bench: {siteCount} sites filled and serving in {clock.Elapsed.TotalSeconds:0.0} s");
            var sitesFile = Path.Combine(folder, $"sites-{siteCount}.json");
            await File.WriteAllTextAsync(sitesFile, "[" + string.Join(",", nodes.Select((n, i) => $$"""{"id": "site-{{i}}", "address": "https://127.0.0.1:{{n.Address.Port}}"}""")) + "]");
            var coordinatorTls = Material(authority, "coordinator", "coordinator", null, disposables);
            await using var coordinator = await StartCoordinatorAsync(
                new CoordinatorSettings(new IPEndPoint(IPAddress.Loopback, coordinatorPort), coordinatorTls, Path.Combine(folder, $"coordinator-{siteCount}.db"), sitesFile)
                { FanOut = new FanOutOptions() });
            foreach (var node in nodes) node.CoordinatorListening();

            var clinicianTls = Material(authority, "clinician", "Bench Clinician", "site-0", disposables);
            using var nodeChannel = NetworkChannel.Open(nodes[0].Address, clinicianTls, new ServerPin("node", "site-0"));
            using var coordinatorChannel = NetworkChannel.Open(coordinator.Address, clinicianTls, new ServerPin("coordinator"));
            var home = new PatientCareClient(nodeChannel.Invoker);
            var care = new CareClient(coordinatorChannel.Invoker);
            static DateTime Deadline() => DateTime.UtcNow.AddSeconds(30);

            var expected = siteCount * factsPerSite;
            var timeline = 0;
            async Task<string> Resolve() => (await home.ResolvePatientAsync(new ResolvePatientRequest { Kvnr = Kvnr }, deadline: Deadline())).Ticket;
            async Task Summary(string ticket)
            {
                var reply = await care.SummaryAsync(new SummaryRequest { Site = "site-0", Ticket = ticket }, deadline: Deadline());
                var released = reply.Sites.Sum(s => s.Entries);
                if (reply.Sites.Count != siteCount || reply.Sites.Any(s => s.Status != SiteStatus.Ok) || released != expected)
                    throw new InvalidOperationException($"a summary came back incomplete: {string.Join(", ", reply.Sites.Select(s => $"{s.Site} {s.Status} {s.Message}"))}");
                timeline = reply.Entries.Count;
            }

            // One site's own part, asked directly as the coordinator asks it (the slowest site's p50).
            var linkage = LinkagePseudonym.Of(key, Kvnr, null, null, null, null)!;
            var direct = new List<double>();
            for (var i = 0; i < nodes.Count; i++)
            {
                using var channel = NetworkChannel.Open(nodes[i].Address, coordinatorTls, new ServerPin("node", $"site-{i}"));
                var site = new PatientCareClient(channel.Invoker);
                var times = await TimeAsync(Math.Max(20, iterations / 4), 20, async _ =>
                {
                    var reply = await site.PatientSummaryAsync(new PatientSummaryRequest { User = new() { Name = "Bench Clinician", Role = "clinician", Site = "site-0" }, Linkage = linkage }, deadline: Deadline());
                    if (reply.Entries.Count != factsPerSite) throw new InvalidOperationException("a site's part came back incomplete");
                });
                if (direct.Count == 0 || Percentile.Of(times, 50) > Percentile.Of(direct, 50)) direct = times;
            }
            rows.Add(Row("slowest site's own part (PatientSummary, direct call)", siteCount, factsPerSite, direct, $"{Math.Max(20, iterations / 4)} calls per site"));

            var ticket = await Resolve();
            var summaries = await TimeAsync(iterations, 20, _ => Summary(ticket));
            rows.Add(Row("Care.Summary (ticket → timeline)", siteCount, timeline, summaries,
                $"{expected} entries released, folded to {timeline}; p50 {Percentile.Of(summaries, 50) - Percentile.Of(direct, 50):0.00} ms above the slowest site alone, {Percentile.Of(summaries, 50) / Percentile.Of(direct, 50):0.0}x (all sites share the cores)"));
            var whole = await TimeAsync(iterations, 20, async _ => await Summary(await Resolve()));
            rows.Add(Row("clinician's whole request (ResolvePatient at own node + Care.Summary)", siteCount, timeline, whole,
                $"what `midia summary` waits for, process start excluded; {Percentile.Of(whole, 50) / Percentile.Of(direct, 50):0.0}x the slowest site alone"));
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
            foreach (var d in disposables) d.Dispose();
        }
        return rows;
    }

    /// <summary>
    /// A site with background patients (20 facts each) and the bench patient's rich history:
    /// monthly PSA, quarterly CA 15-3 and EDSS over the years, therapies with periods, MRIs,
    /// conditions, procedures and staging — <paramref name="facts"/> in all, two of them held
    /// identically at every site (folded by the coordinator). Written with SQL: the importer has its own benchmark.
    /// </summary>
    internal static void Fill(string db, int siteIndex, int facts, int backgroundPatients, LinkageKey key)
    {
        using var connection = SiteDatabase.Open(db);
        using var transaction = connection.BeginTransaction();
        long Sid(string uri)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO code_system(uri) VALUES ($u) ON CONFLICT(uri) DO UPDATE SET uri = excluded.uri RETURNING sid";
            command.Parameters.AddWithValue("$u", uri);
            return (long)command.ExecuteScalar()!;
        }
        var (icd, atc, ops, loinc, snomed, dicom, ms) = (Sid(CodeSystems.Icd10Gm), Sid(CodeSystems.Atc), Sid(CodeSystems.Ops), Sid(CodeSystems.Loinc), Sid(CodeSystems.Snomed), Sid(CodeSystems.Dicom), Sid(CodeSystems.MidiaMs));

        using var patient = connection.CreateCommand();
        patient.Transaction = transaction;
        patient.CommandText = "INSERT INTO patient(resource_id, sex, birth_date, kvnr, family, given) VALUES ($id, 'female', $born, $kvnr, 'Bench', 'Patient') RETURNING pid";
        var id = patient.Parameters.Add("$id", SqliteType.Text);
        var born = patient.Parameters.Add("$born", SqliteType.Integer);
        var kvnr = patient.Parameters.Add("$kvnr", SqliteType.Text);

        using var fact = connection.CreateCommand();
        fact.Transaction = transaction;
        fact.CommandText = """
            INSERT INTO fact(pid, sid, code, kind, date, end_date, value_num, unit, value_sid, value_code, display, resource_type, resource_id)
            VALUES ($pid, $sid, $code, $kind, $date, $end, $value, $unit, $vsid, $vcode, $display, 'Observation', $rid)
            """;
        var p = new Dictionary<string, SqliteParameter>();
        foreach (var name in new[] { "$pid", "$sid", "$code", "$kind", "$date", "$end", "$value", "$unit", "$vsid", "$vcode", "$display", "$rid" })
            p[name] = fact.Parameters.Add(new SqliteParameter { ParameterName = name });
        var n = 0;
        void Fact(long pid, long sid, string code, FactKind kind, int date, int? end = null, double? value = null, string? unit = null, long? vsid = null, string? vcode = null, string? display = null)
        {
            object Or(object? v) => v ?? DBNull.Value;
            (p["$pid"].Value, p["$sid"].Value, p["$code"].Value, p["$kind"].Value, p["$date"].Value, p["$end"].Value) = (pid, sid, code, (int)kind, date, Or(end));
            (p["$value"].Value, p["$unit"].Value, p["$vsid"].Value, p["$vcode"].Value, p["$display"].Value, p["$rid"].Value) = (Or(value), Or(unit), Or(vsid), Or(vcode), Or(display), $"r{n++}");
            fact.ExecuteNonQuery();
        }

        var random = new Random(siteIndex);
        var start = Days.From(new DateOnly(2012, 1, 1)) + siteIndex;
        for (var b = 0; b < backgroundPatients; b++)
        {
            (id.Value, born.Value, kvnr.Value) = ($"bg-{b}", 5000 + b % 9000, $"B{siteIndex:D2}{b:D7}");
            var pid = (long)patient.ExecuteScalar()!;
            Fact(pid, icd, "C61", FactKind.Condition, start + random.Next(3000), display: "Prostatakarzinom");
            for (var k = 0; k < 19; k++) Fact(pid, loinc, "2857-1", FactKind.Observation, start + random.Next(4000), value: Math.Round(random.NextDouble() * 20, 2), unit: "ng/mL");
        }

        (id.Value, born.Value, kvnr.Value) = ("bench-patient", 4000, Kvnr);
        var bench = (long)patient.ExecuteScalar()!;
        // Held identically everywhere: the coordinator folds these.
        Fact(bench, icd, "C50.4", FactKind.Condition, Days.From(new DateOnly(2012, 3, 10)), display: "Bösartige Neubildung der Brustdrüse");
        Fact(bench, icd, "G35.1", FactKind.Condition, Days.From(new DateOnly(2013, 2, 1)), display: "Multiple Sklerose");
        var written = 2;
        var atcCodes = new[] { "L02BA01", "L02BG04", "L04AA36", "L04AG08", "L01FD01" };
        var kinds = 0;
        while (written < facts)
        {
            var day = start + written * 13;
            switch (kinds++ % 10)
            {
                case 0 or 1 or 2 or 3: Fact(bench, loinc, "2857-1", FactKind.Observation, day, value: Math.Round(random.NextDouble() * 10, 2), unit: "ng/mL", display: "PSA"); break;
                case 4: Fact(bench, loinc, "6875-9", FactKind.Observation, day, value: Math.Round(15 + random.NextDouble() * 30, 1), unit: "U/mL", display: "CA 15-3"); break;
                case 5 or 6: Fact(bench, ms, "edss", FactKind.Observation, day, value: random.Next(0, 21) / 2.0, unit: "{score}", display: "EDSS"); break;
                case 7: Fact(bench, atc, atcCodes[random.Next(atcCodes.Length)], FactKind.Medication, day, end: day + 180, display: "therapy"); break;
                case 8: Fact(bench, dicom, "MR", FactKind.Imaging, day, display: "MRT Schädel"); break;
                default:
                    if (random.Next(2) == 0) Fact(bench, snomed, "399504009", FactKind.Observation, day, vsid: snomed, vcode: "369900003", display: "cT");
                    else Fact(bench, ops, "5-870.a2", FactKind.Procedure, day, display: "Partielle Resektion der Mamma");
                    break;
            }
            written++;
        }
        using (var consent = connection.CreateCommand())
        {
            consent.Transaction = transaction;
            consent.CommandText = "INSERT INTO consent_provision(pid, policy, permit, source) VALUES ($pid, $policy, 1, 'Consent/bench')";
            consent.Parameters.AddWithValue("$pid", bench);
            consent.Parameters.AddWithValue("$policy", ConsentPolicies.CareSharing);
            consent.ExecuteNonQuery();
        }
        SiteDatabase.BumpDataVersion(connection, transaction);
        transaction.Commit();
        new QueryApproval(connection).Approve(QueryTypes.PatientSummary, null, null);
        LinkagePseudonym.FillMissing(connection, key);
    }

    static string Row(string what, int sites, int entries, List<double> times, string note) =>
        $"| {what} | {sites} | {entries} | {Percentile.Of(times, 50):0.00} | {Percentile.Of(times, 95):0.00} | {note} |";
}
