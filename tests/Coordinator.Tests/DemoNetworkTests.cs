using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Midia.Coordinator.Tests;

/// <summary>
/// The real thing, as a user runs it: `midia dev up` starts three `midia-node` processes and a
/// `midia-coordinator` process over mutual TLS; `midia count --json` asks them and
/// `midia-node patient report` gathers a patient's report from all three; then one node is
/// killed and the next count still answers, within the deadline, with the dead site named.
/// </summary>
public sealed class DemoNetworkTests : IAsyncLifetime
{
    static readonly string Repository = FindRepository();
    readonly string dir = Directory.CreateTempSubdirectory("midia-devup-").FullName;
    readonly int basePort = FreePortRange(4);
    readonly StringBuilder output = new();
    Process devUp = null!;

    public async Task InitializeAsync()
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "midia")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "dev", "up", "--dir", dir, "--patients", "400", "--seed", "7", "--base-port", basePort.ToString() }) start.ArgumentList.Add(arg);
        devUp = Process.Start(start)!;
        var up = new TaskCompletionSource();
        devUp.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); if (e.Data?.Contains("demo network is up") == true) up.TrySetResult(); };
        devUp.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        devUp.BeginOutputReadLine();
        devUp.BeginErrorReadLine();
        var finished = await Task.WhenAny(up.Task, devUp.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(3)));
        Assert.True(up.Task.IsCompleted, $"`midia dev up` did not come up:\n{Output()}");
    }

    public async Task DisposeAsync()
    {
        if (!devUp.HasExited)
        {
            // SIGTERM, not SIGINT: a test host started from a background job inherits an ignored SIGINT.
            Signal(devUp.Id, 15);
            if (!devUp.WaitForExit(TimeSpan.FromSeconds(20))) devUp.Kill(entireProcessTree: true);
        }
        await devUp.WaitForExitAsync();
        var orphans = NetworkProcesses().ToList();
        foreach (var orphan in orphans) orphan.Kill();
        Directory.Delete(dir, recursive: true);
        Assert.True(orphans.Count == 0, $"`midia dev up` left {orphans.Count} processes running after SIGTERM");
    }

    [Fact]
    public async Task EveryDemoSiteAnswersThenAKilledNodeIsReportedWithoutDelayingTheOthers()
    {
        var query = Path.Combine(Repository, "examples", "prostate-cancer-psa-above-4.json");

        var all = await CountAsync(query);
        var sites = all.GetProperty("sites").EnumerateArray().ToDictionary(s => s.GetProperty("site").GetString()!);
        Assert.Equal(["erlangen", "munich", "practice"], sites.Keys.Order());
        Assert.All(sites.Values, s => Assert.Equal("ok", s.GetProperty("status").GetString()));
        Assert.True(all.GetProperty("total").TryGetProperty("value", out _));

        // Patient transparency works out of the box: every demo site approved patient-report.
        var report = await PatientReportAsync();
        Assert.Equal(["erlangen", "munich", "practice"], report.GetProperty("sites").EnumerateArray().Select(s => s.GetProperty("site").GetString()));
        Assert.All(report.GetProperty("sites").EnumerateArray(), s => Assert.Contains(s.GetProperty("status").GetString(), new[] { "ok", "no_record" }));
        Assert.Equal("ok", report.GetProperty("sites")[0].GetProperty("status").GetString());

        var munich = Assert.Single(NodeProcesses(), p => CommandLine(p.Id).Contains(Path.Combine(dir, "munich.db")));
        munich.Kill();
        munich.WaitForExit();

        await MidiaAsync("project", "register", "--id", "after-kill", "--title", "After the kill", "--question", "Does a count survive a dead site?", "--institution", "Demo");
        var partial = await CountAsync(query, "--project", "after-kill"); // another project: not answered from history
        var after = partial.GetProperty("sites").EnumerateArray().ToDictionary(s => s.GetProperty("site").GetString()!);
        Assert.Equal("ok", after["erlangen"].GetProperty("status").GetString());
        Assert.Equal("ok", after["practice"].GetProperty("status").GetString());
        Assert.Contains(after["munich"].GetProperty("status").GetString(), new[] { "unavailable", "timeout" });
        // A message a person can act on: where the coordinator tried to reach the site.
        Assert.Contains($"127.0.0.1:{basePort + 2}", after["munich"].GetProperty("message").GetString());
    }

    async Task<JsonElement> CountAsync(string query, params string[] extra) =>
        JsonDocument.Parse(await MidiaAsync([.. new[] { "count", query, "--json" }.Concat(extra)])).RootElement.Clone();

    /// <summary>The `midia` executable as the demo's researcher; its stdout.</summary>
    async Task<string> MidiaAsync(params string[] args)
    {
        var certs = Path.Combine(dir, "certs");
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "midia")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["MIDIA_COORDINATOR"] = $"https://127.0.0.1:{basePort}";
        start.Environment["MIDIA_CERT"] = Path.Combine(certs, "researcher.crt");
        start.Environment["MIDIA_KEY"] = Path.Combine(certs, "researcher.key");
        start.Environment["MIDIA_CA"] = Path.Combine(certs, "ca.crt");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, $"midia {args[0]} exited {process.ExitCode}: {await stderr}\n{Output()}");
        return await stdout;
    }

    /// <summary>`midia-node patient report --json` at erlangen for its first patient, with the node's own certificate.</summary>
    async Task<JsonElement> PatientReportAsync()
    {
        var db = Path.Combine(dir, "erlangen.db");
        string patient;
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT resource_id FROM patient ORDER BY pid LIMIT 1";
            patient = (string)command.ExecuteScalar()!;
        }
        var certs = Path.Combine(dir, "certs");
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "midia-node")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "patient", "report", "--db", db, "--patient", patient, "--json",
            "--coordinator", $"https://127.0.0.1:{basePort}", "--cert", Path.Combine(certs, "node-erlangen.crt"), "--key", Path.Combine(certs, "node-erlangen.key"),
            "--ca", Path.Combine(certs, "ca.crt"), "--linkage-key", Path.Combine(certs, "linkage.key") })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, $"midia-node patient report exited {process.ExitCode}: {await stderr}\n{Output()}");
        return JsonDocument.Parse(await stdout).RootElement.Clone();
    }

    IEnumerable<Process> NodeProcesses() =>
        Process.GetProcessesByName("midia-node").Where(p => CommandLine(p.Id).Contains(dir));

    IEnumerable<Process> NetworkProcesses() =>
        NodeProcesses().Concat(Process.GetProcessesByName("midia-coordinator").Where(p => CommandLine(p.Id).Contains(dir)));

    static string CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' '); }
        catch (IOException) { return ""; }
    }

    string Output() { lock (output) return output.ToString(); }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    static extern int Signal(int pid, int signal);

    static int FreePortRange(int count)
    {
        var random = new Random();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var first = random.Next(20000, 60000);
            if (Enumerable.Range(first, count).All(IsFree)) return first;
        }
        throw new InvalidOperationException("no free port range on 127.0.0.1");

        static bool IsFree(int port)
        {
            try { using var l = new TcpListener(IPAddress.Loopback, port); l.Start(); return true; }
            catch (SocketException) { return false; }
        }
    }

    static string FindRepository()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Midia.Federated.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }
}
