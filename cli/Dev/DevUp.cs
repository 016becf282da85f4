using System.CommandLine;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using Midia.CertsDev;
using Midia.Cli.Dev.Synth;
using Midia.Node.Import;
using Midia.Node.Policy;
using Midia.Node.Store;
using Midia.Hosting;

namespace Midia.Cli.Dev;

/// <summary>
/// `midia dev up`: the whole demo network on this machine — dev certificates, synthetic data for
/// three sites, imports, approvals, three nodes and the coordinator as child processes — until Ctrl-C.
/// </summary>
public static class DevUp
{
    static readonly string[] DemoSites = ["erlangen", "munich", "practice"];
    /// <summary>Sites that get a web portal (the university hospitals); each listens at base port + 101, + 102.</summary>
    static readonly string[] PortalSites = ["erlangen", "munich"];
    /// <summary>Every demo account's password: this is a demo on loopback with dev certificates, never a deployment.</summary>
    const string DemoPassword = "midia-demo-2026";

    public static Command Command()
    {
        var dir = new Option<string>("--dir") { Description = "Folder for the demo network's certificates, data, databases and logs", DefaultValueFactory = _ => ".midia-dev" };
        var patients = new Option<int>("--patients") { Description = "Synthetic patients per site", DefaultValueFactory = _ => 5000 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the synthetic data", DefaultValueFactory = _ => 42 };
        var port = new Option<int>("--base-port") { Description = "The coordinator listens here, the nodes on the next ports", DefaultValueFactory = _ => 7100 };
        var fresh = new Option<bool>("--fresh") { Description = "Throw away an earlier demo network's folder and build it anew" };
        var command = new Command("up", "Start the demo network: three sites (Erlangen, Munich, a regional oncology practice) and the coordinator, until Ctrl-C")
        {
            dir, patients, seed, port, fresh,
        };
        command.SetAction((parse, cancel) => RunAsync(Path.GetFullPath(parse.GetValue(dir)!), parse.GetValue(patients), parse.GetValue(seed), parse.GetValue(port), parse.GetValue(fresh), cancel));
        return command;
    }

    static async Task<int> RunAsync(string dir, int patients, ulong seed, int basePort, bool fresh, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var ports = Enumerable.Range(basePort, DemoSites.Length + 1).ToArray();
        var portalPorts = PortalSites.Select((_, i) => basePort + 101 + i).ToArray();
        foreach (var p in ports.Concat(portalPorts))
            if (PortAnswers(p)) throw new CommandException($"port {p} is in use on 127.0.0.1 (is another `midia dev up` running?); choose --base-port");

        if (fresh && Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        var certs = Path.Combine(dir, "certs");
        var ready = Path.Combine(dir, "ready");
        // A demo folder from before the portals has no portal certificates: build it anew.
        if (!File.Exists(ready) || !File.Exists(Path.Combine(certs, $"portal-{PortalSites[0]}.crt")))
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            Prepare(dir, certs, patients, seed, basePort);
            File.WriteAllText(ready, $"patients {patients}, seed {seed}\n");
        }
        else Console.WriteLine($"reusing the demo network in {dir} (--fresh builds it anew)");

        var logs = Directory.CreateDirectory(Path.Combine(dir, "logs")).FullName;
        var children = new List<(string Name, Process Process, int Port)>();
        try
        {
            for (var i = 0; i < DemoSites.Length; i++)
            {
                var site = DemoSites[i];
                children.Add((site, Start("midia-node", logs, site,
                    "serve", "--site", site, "--db", Path.Combine(dir, site + ".db"), "--listen", $"127.0.0.1:{ports[i + 1]}",
                    "--cert", Path.Combine(certs, $"node-{site}.crt"), "--key", Path.Combine(certs, $"node-{site}.key"), "--ca", Path.Combine(certs, "ca.crt"),
                    "--coordinator", $"https://127.0.0.1:{basePort}", "--linkage-key", Path.Combine(certs, "linkage.key")), ports[i + 1]));
            }
            children.Add(("coordinator", Start("midia-coordinator", logs, "coordinator",
                "serve", "--listen", $"127.0.0.1:{basePort}", "--cert", Path.Combine(certs, "coordinator.crt"), "--key", Path.Combine(certs, "coordinator.key"),
                "--ca", Path.Combine(certs, "ca.crt"), "--db", Path.Combine(dir, "coordinator.db"), "--sites", Path.Combine(dir, "sites.json")), basePort));

            for (var i = 0; i < PortalSites.Length; i++)
            {
                var site = PortalSites[i];
                var nodePort = ports[1 + Array.IndexOf(DemoSites, site)];
                children.Add(($"portal-{site}", Start("midia-portal", logs, $"portal-{site}",
                    "serve", "--site", site, "--listen", $"127.0.0.1:{portalPorts[i]}", "--coordinator", $"https://127.0.0.1:{basePort}",
                    "--node", $"https://127.0.0.1:{nodePort}", "--cert", Path.Combine(certs, $"portal-{site}.crt"), "--key", Path.Combine(certs, $"portal-{site}.key"),
                    "--ca", Path.Combine(certs, "ca.crt"), "--accounts", PortalAccounts(dir, site)), portalPorts[i]));
            }

            foreach (var (name, process, p) in children) await WaitUntilListeningAsync(name, process, p, logs, cancel);
            PrintWelcome(dir, certs, basePort, children.Select(c => (c.Name, c.Port)).ToList(), clock.Elapsed);
            PrintPortals(dir, certs, portalPorts);

            // Run until Ctrl-C. A child that dies is reported and the rest keep running — a network
            // with a site down is exactly what the per-site statuses are for.
            var running = children.ToList();
            while (running.Count > 0)
            {
                await Task.WhenAny(running.Select(c => c.Process.WaitForExitAsync(cancel)).Append(Task.Delay(Timeout.Infinite, cancel)));
                cancel.ThrowIfCancellationRequested();
                foreach (var dead in running.Where(c => c.Process.HasExited).ToList())
                {
                    Console.WriteLine($"{dead.Name} stopped with exit code {dead.Process.ExitCode} (log: {Path.Combine(logs, dead.Name + ".log")}); the rest keeps running");
                    running.Remove(dead);
                }
            }
            throw new CommandException($"every process of the demo network has stopped; see the logs in {logs}");
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return 0;
        }
        finally
        {
            Console.WriteLine("stopping the demo network ...");
            foreach (var (_, process, _) in children) Terminate(process);
            foreach (var (_, process, _) in children)
                if (!process.WaitForExit(TimeSpan.FromSeconds(10))) process.Kill(entireProcessTree: true);
        }
    }

    static void Prepare(string dir, string certs, int patients, ulong seed, int basePort)
    {
        Directory.CreateDirectory(dir);
        Console.WriteLine($"making dev certificates in {certs}");
        DevCertificates.CreateNetwork(certs, DemoSites);

        var data = Path.Combine(dir, "data");
        Console.WriteLine($"writing synthetic FHIR data for {DemoSites.Length} sites x {patients:N0} patients to {data}");
        Console.WriteLine("  " + SynthCommand.Generate(new Population(seed, DemoSites, patients), data).ToText());

        foreach (var site in DemoSites)
        {
            using var db = SiteDatabase.Open(Path.Combine(dir, site + ".db"));
            using var importer = new FhirImporter(db);
            long resources = 0;
            foreach (var report in importer.ImportFiles(FhirImporter.CollectFiles([Path.Combine(data, site)])))
            {
                if (!report.Applied) throw new CommandException($"import of {report.File} failed: {report.Problems[0]}");
                resources += report.Resources;
            }
            // The demo sites approve every query type, so every journey works out of the box.
            var approvals = new QueryApproval(db);
            foreach (var type in QueryTypes.All) approvals.Approve(type, null, null);
            Console.WriteLine($"  {site}: imported {resources:N0} resources; approved {string.Join(", ", QueryTypes.All)}");
        }

        var sites = DemoSites.Select((s, i) => new { id = s, address = $"https://127.0.0.1:{basePort + 1 + i}" });
        File.WriteAllText(Path.Combine(dir, "sites.json"), JsonSerializer.Serialize(sites, new JsonSerializerOptions { WriteIndented = true }) + "\n");

        // One account per role and portal; the patient account is bound to a synthetic patient of that site (by KVNR).
        foreach (var site in PortalSites)
        {
            var accounts = new Midia.Portal.Accounts.AccountStore(PortalAccounts(dir, site));
            accounts.Add("researcher", "researcher", "Dr. Ada Research", null, null, DemoPassword);
            accounts.Add($"clinician-{site}", "clinician", $"Dr. Clinician ({site})", site, null, DemoPassword);
            accounts.Add($"admin-{site}", "site-admin", $"Site admin ({site})", site, null, DemoPassword);
            if (DemoPatient(dir, site) is { } patient)
                accounts.Add($"patient-{site}", "patient", $"Patient {patient.Id}", site, patient.Kvnr, DemoPassword);
        }
        Console.WriteLine($"  portal accounts for {string.Join(", ", PortalSites)} (password {DemoPassword})");
    }

    static string PortalAccounts(string dir, string site) => Path.Combine(dir, $"portal-{site}-accounts.json");

    static void PrintPortals(string dir, string certs, int[] portalPorts)
    {
        Console.WriteLine();
        Console.WriteLine($"Web portals (HTTPS with the dev CA {certs}/ca.crt; your browser will warn unless you trust it):");
        for (var i = 0; i < PortalSites.Length; i++)
        {
            var site = PortalSites[i];
            var patient = DemoPatient(dir, site);
            Console.WriteLine($"  {site,-9} https://127.0.0.1:{portalPorts[i]}");
            Console.WriteLine($"            researcher / {DemoPassword}   clinician-{site} / {DemoPassword}   admin-{site} / {DemoPassword}");
            if (patient is not null) Console.WriteLine($"            patient-{site} / {DemoPassword}   (the synthetic patient {patient.Value.Id} of {site})");
        }
        Console.WriteLine($"  or sign in with a certificate: import {certs}/researcher.crt + .key (or clinician-SITE, site-admin-SITE) into the browser");
    }

    static Process Start(string executable, string logs, string name, params string[] args)
    {
        var path = Path.Combine(AppContext.BaseDirectory, executable);
        var info = new ProcessStartInfo(File.Exists(path) ? path : executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new CommandException($"cannot start {executable}");
        var log = new StreamWriter(Path.Combine(logs, name + ".log"), append: false) { AutoFlush = true };
        var gate = new object();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (gate) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (gate) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    static async Task WaitUntilListeningAsync(string name, Process process, int port, string logs, CancellationToken cancel)
    {
        var deadline = Stopwatch.StartNew();
        while (!PortAnswers(port))
        {
            if (process.HasExited)
                throw new CommandException($"{name} exited with code {process.ExitCode} before listening; see {Path.Combine(logs, name + ".log")}");
            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
                throw new CommandException($"{name} is not listening on port {port} after 30 s; see {Path.Combine(logs, name + ".log")}");
            await Task.Delay(100, cancel);
        }
    }

    static bool PortAnswers(int port)
    {
        try
        {
            using var client = new TcpClient();
            return client.ConnectAsync("127.0.0.1", port).Wait(200) && client.Connected;
        }
        catch (Exception e) when (e is SocketException or AggregateException) { return false; }
    }

    static void PrintWelcome(string dir, string certs, int basePort, IReadOnlyList<(string Name, int Port)> running, TimeSpan elapsed)
    {
        var midia = Path.Combine(AppContext.BaseDirectory, "midia");
        var examples = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "examples"));
        Console.WriteLine();
        Console.WriteLine($"Midia Federated demo network is up ({elapsed.TotalSeconds:F0} s):");
        foreach (var (name, port) in running) Console.WriteLine($"  {name,-12} https://127.0.0.1:{port}   log: {Path.Combine(dir, "logs", name + ".log")}");
        Console.WriteLine();
        Console.WriteLine("Try, in another terminal:");
        Console.WriteLine($"  export MIDIA_COORDINATOR=https://127.0.0.1:{basePort} MIDIA_CA={certs}/ca.crt MIDIA_CERT={certs}/researcher.crt MIDIA_KEY={certs}/researcher.key");
        Console.WriteLine($"  {midia} sites");
        Console.WriteLine($"  {midia} count {examples}/her2-breast-cancer-trastuzumab.json");
        Console.WriteLine($"  {midia} count {examples}/ms-ocrelizumab-no-natalizumab.json --stratify sex,age-band");
        if (DemoPatient(dir, DemoSites[0])?.Id is { } patient)
        {
            var home = DemoSites[0];
            Console.WriteLine("A clinician's cross-site patient summary:");
            Console.WriteLine($"  export MIDIA_CERT={certs}/clinician-{home}.crt MIDIA_KEY={certs}/clinician-{home}.key");
            Console.WriteLine($"  {midia} summary --site {home} --patient {patient}");
        }
        Console.WriteLine();
        Console.WriteLine("Ctrl-C stops everything.");
    }

    /// <summary>
    /// A site's patient with the richest record there among those another site shares too: a
    /// summary that shows something from several sites. Only the local id is printed, never the
    /// KVNR (it goes only into the demo patient's portal account).
    /// </summary>
    static (string Id, string Kvnr)? DemoPatient(string dir, string homeSite)
    {
        try
        {
            var elsewhere = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var site in DemoSites.Where(s => s != homeSite))
            {
                using var db = SiteDatabase.Open(Path.Combine(dir, site + ".db"), readOnly: true);
                using var command = db.CreateCommand();
                // Sites where the patient permitted care-sharing (and never denied it) show their part.
                command.CommandText = """
                    SELECT DISTINCT p.kvnr FROM patient p WHERE p.kvnr IS NOT NULL
                      AND EXISTS (SELECT 1 FROM consent_provision c WHERE c.pid = p.pid AND c.policy = $policy AND c.permit = 1)
                      AND NOT EXISTS (SELECT 1 FROM consent_provision c WHERE c.pid = p.pid AND c.policy = $policy AND c.permit = 0)
                    """;
                command.Parameters.AddWithValue("$policy", Midia.Node.Consent.ConsentPolicies.CareSharing);
                using var reader = command.ExecuteReader();
                while (reader.Read()) elsewhere[reader.GetString(0)] = elsewhere.GetValueOrDefault(reader.GetString(0)) + 1;
            }
            using var home = SiteDatabase.Open(Path.Combine(dir, homeSite + ".db"), readOnly: true);
            using var facts = home.CreateCommand();
            facts.CommandText = "SELECT p.resource_id, p.kvnr, (SELECT COUNT(*) FROM fact f WHERE f.pid = p.pid) FROM patient p WHERE p.kvnr IS NOT NULL";
            using var rows = facts.ExecuteReader();
            (string Id, string Kvnr, int Sites, long Facts)? best = null;
            while (rows.Read())
            {
                var candidate = (rows.GetString(0), rows.GetString(1), elsewhere.GetValueOrDefault(rows.GetString(1)), rows.GetInt64(2));
                if (best is null || (Math.Min(candidate.Item3, 1), candidate.Item4).CompareTo((Math.Min(best.Value.Sites, 1), best.Value.Facts)) > 0) best = candidate;
            }
            return best is { } b ? (b.Id, b.Kvnr) : null;
        }
        catch (Microsoft.Data.Sqlite.SqliteException)
        {
            return null; // the hint is a convenience; the network runs without it
        }
    }

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);

    /// <summary>SIGTERM first, so servers shut down gracefully; Kill only if they do not.</summary>
    static void Terminate(Process process)
    {
        if (process.HasExited) return;
        if (OperatingSystem.IsWindows() || kill(process.Id, 15) != 0) process.Kill(entireProcessTree: true);
    }
}
