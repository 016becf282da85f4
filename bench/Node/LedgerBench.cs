using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Numerics;
using System.Net;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Midia.CertsDev;
using Midia.Node.Consent;
using Midia.Node.Linkage;
using Midia.Node.Policy;
using Midia.Node.Research;
using Midia.Node.Serve;
using Midia.Node.Store;
using Midia.Protos.Node.V1;
using Midia.Testing;
using Midia.Trust;

namespace Midia.Bench.Node;

/// <summary>
/// `midia-bench ledger [--patients 1000000] [--runs 15] [--db path] [--rebuild]`: what the usage
/// ledger costs. Part 1: blob size and encode/membership time of the compressed pid set for random
/// 1 %, 30 % and 90 % cohorts (every layout sized, so the choice is measured). Part 2: the node's
/// whole cohort-count path (approval, CCDL, evaluation, research consent, disclosure, audit) on a
/// synthetic site, p50/p95 with and without the ledger row, runs interleaved so load drift hits both.
/// </summary>
public static class LedgerBench
{
    public static int Run(string[] args)
    {
        int patients = 1_000_000, runs = 15;
        string? db = null;
        var rebuild = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--patients": patients = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--db": db = args[++i]; break;
                case "--rebuild": rebuild = true; break;
                default:
                    Console.Error.WriteLine($"error: unknown option {args[i]} (use --patients N --runs N --db path --rebuild)");
                    return 2;
            }
        }

        Console.WriteLine(Tables(patients, runs, db, rebuild));
        return 0;
    }

    /// <summary>The two markdown tables BENCHMARKS.md shows: pid-set blob sizes, and cohort-count latency with and without the ledger.</summary>
    public static string Tables(int patients, int runs, string? db = null, bool rebuild = false)
    {
        var output = new StringWriter();
        Blobs(patients, output);
        output.WriteLine();
        Latency(patients, runs, db ?? Path.Combine(Path.GetTempPath(), $"midia-bench-ledger-{patients}.db"), rebuild, output);
        return output.ToString();
    }

    static void Blobs(int patients, TextWriter output)
    {
        output.WriteLine($"Compressed pid sets at {patients:N0} patients (random members; bitmap = {patients / 8:N0} bytes; encode and membership p50 of 9 runs)");
        output.WriteLine();
        output.WriteLine("| cohort | members | member gaps | absent gaps | bitmap + Deflate | stored (chosen layout) | stored + Deflate (not used) | encode | one pid's membership (worst) |");
        output.WriteLine("|---:|---:|---:|---:|---:|---|---:|---:|---:|");
        var random = new Random(7);
        foreach (var density in new[] { 0.01, 0.30, 0.90 })
        {
            var set = new PatientSet(patients);
            for (long pid = 1; pid <= patients; pid++) if (random.NextDouble() < density) set.Add(pid);
            var (members, absent) = GapSizes(set, patients);
            var bitmapDeflated = Deflated(set);
            var stored = CompressedPatientSet.Encode(set);
            var encode = Time(9, () => CompressedPatientSet.Encode(set));
            var deflated = Deflate(stored);
            var deflate = Time(9, () => Deflate(stored));
            // The last pid costs the most for the list layouts (they read up to it).
            var probe = Time(9, () => CompressedPatientSet.Contains(stored, patients));
            output.WriteLine($"| {density:P0} | {set.Count():N0} | {members:N0} B | {absent:N0} B | {bitmapDeflated:N0} B | {CompressedPatientSet.LayoutOf(stored)} {stored.Length:N0} B | " +
                $"{deflated:N0} B ({deflate.P50:F1} ms more) | {encode.P50:F2} ms | {probe.P50:F2} ms |");
        }
    }

    static void Latency(int patients, int runs, string db, bool rebuild, TextWriter output)
    {
        if (rebuild || !File.Exists(db) || !Complete(db, patients))
        {
            foreach (var file in new[] { db, db + "-wal", db + "-shm" }) File.Delete(file);
            var watch = Stopwatch.StartNew();
            var facts = SyntheticSite.Build(db, patients);
            var consenting = GrantResearchConsent(db, 0.9);
            Console.Error.WriteLine($"ledger bench: built {db}: {patients:N0} patients, {facts:N0} facts, research consent for {consenting:N0} in {watch.Elapsed.TotalSeconds:F1} s");
        }
        else Console.Error.WriteLine($"ledger bench: reusing {db}");
        using (var connection = SiteDatabase.Open(db))
        {
            new QueryApproval(connection).Approve(QueryTypes.CohortCount, null, null);
            SiteDatabase.Execute(connection, "DELETE FROM research_use");
        }

        // The node's research service as `serve` builds it (NodeServer.Create's registrations, not
        // started: called in process), twice over one session of the same file: the baseline's site
        // does not record usage. The call context is the coordinator's, as over the network.
        using var sessions = new SiteSessions(db, 1);
        using var authority = DevCertificates.CreateAuthority("Ledger Bench CA");
        using var tls = Loopback.Material(authority, "node", "node-bench", "bench");
        var settings = new NodeSettings("bench", db, new IPEndPoint(IPAddress.Loopback, 0), tls, new Uri("https://127.0.0.1:1"), LinkageKey.FromSecret("a benchmark linkage secret of at least 32 bytes"u8));
        using var recording = NodeServer.Create(settings, configure: node =>
        {
            node.Logging.ClearProviders();
            node.Services.AddSingleton(sessions);
        });
        using var baseline = NodeServer.Create(settings, configure: node =>
        {
            node.Logging.ClearProviders();
            node.Services.AddSingleton(sessions);
            node.Services.AddSingleton(new NodeSite("bench") { RecordUsage = false });
        });
        var withLedger = recording.Services.GetRequiredService<ResearchQueries>();
        var without = baseline.Services.GetRequiredService<ResearchQueries>();
        var context = CallContexts.For(new PeerIdentity("coordinator", "coordinator", null));
        var user = new EndUser { Name = "Dr Bench", Role = "researcher", Project = "bench" };

        output.WriteLine($"Node cohort-count latency with and without the usage ledger ({patients:N0} patients, 90 % research consent, {runs} interleaved warm runs each)");
        output.WriteLine();
        output.WriteLine("| query | counted | without ledger p50 / p95 | with ledger p50 / p95 | added (p50) | blob |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|");
        var worst = 0.0;
        foreach (var (name, ccdl) in Queries())
        {
            var request = new CohortCountRequest { User = user, CcdlJson = ccdl, QueryId = "bench" };
            withLedger.CohortCount(request, context).GetAwaiter().GetResult(); // warm: statements, demographics, consent set
            without.CohortCount(request, context).GetAwaiter().GetResult();
            var on = new double[runs];
            var off = new double[runs];
            for (var i = 0; i < runs; i++)
            {
                // Alternate which goes first, so neither always runs right after the other's writes.
                var (first, second) = i % 2 == 0 ? (withLedger, without) : (without, withLedger);
                var a = Stopwatch.StartNew();
                first.CohortCount(request, context).GetAwaiter().GetResult();
                var ta = a.Elapsed.TotalMilliseconds;
                var b = Stopwatch.StartNew();
                second.CohortCount(request, context).GetAwaiter().GetResult();
                var tb = b.Elapsed.TotalMilliseconds;
                (on[i], off[i]) = first == withLedger ? (ta, tb) : (tb, ta);
            }
            var (counted, blob) = LastUse(db);
            var (onP50, offP50) = (Percentile.Of(on, 50), Percentile.Of(off, 50));
            var added = (onP50 - offP50) / offP50;
            worst = Math.Max(worst, added);
            output.WriteLine($"| {name} | {counted:N0} | {offP50:F1} / {Percentile.Of(off, 95):F1} ms | {onP50:F1} / {Percentile.Of(on, 95):F1} ms | {added:P1} | {blob:N0} B |");
        }
        output.WriteLine();
        output.WriteLine($"worst added p50: {worst:P1} ({(worst < 0.10 ? "within" : "OVER")} the 10 % budget)");
    }

    /// <summary>Cohorts of very different size over the synthetic site (the site's own prevalences decide the exact share).</summary>
    static IEnumerable<(string Name, string Ccdl)> Queries()
    {
        const string icd = "http://fhir.de/CodeSystem/bfarm/icd-10-gm";
        string Icd(string code) => $$"""{"termCodes":[{"system":"{{icd}}","code":"{{code}}"}]}""";
        yield return ("C50 (small)", $$"""{"version":"2","display":"breast cancer","inclusionCriteria":[[{{Icd("C50")}}]]}""");
        yield return ("I10 or M54 or E78 (about a third)", $$"""{"version":"2","display":"hypertension, back pain or hypercholesterolaemia","inclusionCriteria":[[{{Icd("I10")}},{{Icd("M54")}},{{Icd("E78")}}]]}""");
        yield return ("everyone without J45 (most)", $$"""{"version":"2","display":"everyone without asthma","exclusionCriteria":[[{{Icd("J45")}}]]}""");
    }

    static (long Counted, long Blob) LastUse(string db)
    {
        using var connection = SiteDatabase.Open(db, readOnly: true);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT patients FROM research_use ORDER BY id DESC LIMIT 1";
        var blob = (byte[])command.ExecuteScalar()!;
        return (CompressedPatientSet.Decode(blob).Count(), blob.Length);
    }

    internal static long GrantResearchConsent(string db, double share)
    {
        using var connection = SiteDatabase.Open(db);
        using var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO consent_provision(pid, policy, permit, start, source) VALUES ($pid, $policy, 1, 14000, 'Consent/bench-' || $pid)";
        insert.Parameters.AddWithValue("$policy", ConsentPolicies.Research);
        var pid = insert.Parameters.Add("$pid", SqliteType.Integer);
        using var select = connection.CreateCommand();
        select.Transaction = transaction;
        select.CommandText = "SELECT pid FROM patient";
        var random = new Random(11);
        long granted = 0;
        var pids = new List<long>();
        using (var reader = select.ExecuteReader())
            while (reader.Read()) pids.Add(reader.GetInt64(0));
        foreach (var p in pids)
        {
            if (random.NextDouble() >= share) continue;
            pid.Value = p;
            insert.ExecuteNonQuery();
            granted++;
        }
        using var mark = connection.CreateCommand();
        mark.Transaction = transaction;
        mark.CommandText = "INSERT INTO meta(key, value) VALUES ('bench_ledger_consent', '1') ON CONFLICT(key) DO NOTHING";
        mark.ExecuteNonQuery();
        SiteDatabase.BumpDataVersion(connection, transaction);
        transaction.Commit();
        return granted;
    }

    static bool Complete(string db, int patients)
    {
        using var connection = SiteDatabase.Open(db, readOnly: true);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT value FROM meta WHERE key = 'bench_patients') || '/' || IFNULL((SELECT value FROM meta WHERE key = 'bench_ledger_consent'), '')";
        try { return command.ExecuteScalar() is string s && s == $"{patients}/1"; }
        catch (SqliteException) { return false; }
    }

    static (long Members, long Absent) GapSizes(PatientSet set, long last)
    {
        long members = 0, absent = 0, previousMember = -1, previousAbsent = -1;
        for (long pid = 0; pid <= last; pid++)
            if (set.Contains(pid)) { members += Varint(pid - previousMember); previousMember = pid; }
            else { absent += Varint(pid - previousAbsent); previousAbsent = pid; }
        return (members, absent);

        static int Varint(long gap) => Math.Max(1, (64 - BitOperations.LeadingZeroCount((ulong)gap) + 6) / 7);
    }

    static long Deflated(PatientSet set)
    {
        var bytes = new byte[(set.Capacity >> 3)];
        foreach (var pid in set.Members()) bytes[pid >> 3] |= (byte)(1 << (int)(pid & 7));
        using var packed = new MemoryStream();
        using (var deflate = new DeflateStream(packed, CompressionLevel.Fastest, leaveOpen: true)) deflate.Write(bytes);
        return packed.Length;
    }

    static long Deflate(byte[] bytes)
    {
        using var packed = new MemoryStream();
        using (var deflate = new DeflateStream(packed, CompressionLevel.Fastest, leaveOpen: true)) deflate.Write(bytes);
        return packed.Length;
    }

    static (double P50, double P95) Time(int runs, Action action)
    {
        action();
        var times = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            action();
            times[i] = watch.Elapsed.TotalMilliseconds;
        }
        return (Percentile.Of(times, 50), Percentile.Of(times, 95));
    }
}
