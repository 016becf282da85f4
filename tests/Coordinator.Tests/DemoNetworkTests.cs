using System.Diagnostics;
using System.Text.Json;
using Midia.Security.Tests.Support;

namespace Midia.Coordinator.Tests;

/// <summary>
/// The real thing, as a user runs it: `midia dev up` starts three `midia-node` processes and a
/// `midia-coordinator` process over mutual TLS; `midia count --json` asks them and
/// `midia-node patient report` gathers a patient's report from all three; then one node is
/// killed and the next count still answers, within the deadline, with the dead site named.
/// </summary>
public sealed class DemoNetworkTests : IAsyncLifetime
{
    static readonly string Repository = DemoNetwork.Repository();
    readonly DemoNetwork network = new() { Patients = 400, Seed = 7, UpWithin = TimeSpan.FromMinutes(3) };

    public Task InitializeAsync() => network.InitializeAsync();

    public async Task DisposeAsync()
    {
        await network.DisposeAsync(); // SIGTERM to `dev up`, which stops its children
        var orphans = NetworkProcesses().ToList();
        foreach (var orphan in orphans) orphan.Kill();
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

        var munich = Assert.Single(NodeProcesses(), p => CommandLine(p.Id).Contains(Path.Combine(network.Dir, "munich.db")));
        munich.Kill();
        munich.WaitForExit();

        await MidiaAsync("project", "register", "--id", "after-kill", "--title", "After the kill", "--question", "Does a count survive a dead site?", "--institution", "Demo");
        var partial = await CountAsync(query, "--project", "after-kill"); // another project: not answered from history
        var after = partial.GetProperty("sites").EnumerateArray().ToDictionary(s => s.GetProperty("site").GetString()!);
        Assert.Equal("ok", after["erlangen"].GetProperty("status").GetString());
        Assert.Equal("ok", after["practice"].GetProperty("status").GetString());
        Assert.Contains(after["munich"].GetProperty("status").GetString(), new[] { "unavailable", "timeout" });
        // A message a person can act on: where the coordinator tried to reach the site.
        Assert.Contains($"127.0.0.1:{network.BasePort + 2}", after["munich"].GetProperty("message").GetString());
    }

    async Task<JsonElement> CountAsync(string query, params string[] extra) =>
        JsonDocument.Parse(await MidiaAsync([.. new[] { "count", query, "--json" }.Concat(extra)])).RootElement.Clone();

    /// <summary>The `midia` executable as the demo's researcher; its stdout.</summary>
    async Task<string> MidiaAsync(params string[] args)
    {
        var certs = Path.Combine(network.Dir, "certs");
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "midia")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["MIDIA_COORDINATOR"] = $"https://127.0.0.1:{network.BasePort}";
        start.Environment["MIDIA_CERT"] = Path.Combine(certs, "researcher.crt");
        start.Environment["MIDIA_KEY"] = Path.Combine(certs, "researcher.key");
        start.Environment["MIDIA_CA"] = Path.Combine(certs, "ca.crt");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, $"midia {args[0]} exited {process.ExitCode}: {await stderr}\n{network.Output()}");
        return await stdout;
    }

    /// <summary>`midia-node patient report --json` at erlangen for its first patient, with the node's own certificate.</summary>
    async Task<JsonElement> PatientReportAsync()
    {
        var db = Path.Combine(network.Dir, "erlangen.db");
        string patient;
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT resource_id FROM patient ORDER BY pid LIMIT 1";
            patient = (string)command.ExecuteScalar()!;
        }
        var certs = Path.Combine(network.Dir, "certs");
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "midia-node")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "patient", "report", "--db", db, "--patient", patient, "--json",
            "--coordinator", $"https://127.0.0.1:{network.BasePort}", "--cert", Path.Combine(certs, "node-erlangen.crt"), "--key", Path.Combine(certs, "node-erlangen.key"),
            "--ca", Path.Combine(certs, "ca.crt"), "--linkage-key", Path.Combine(certs, "linkage.key") })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, $"midia-node patient report exited {process.ExitCode}: {await stderr}\n{network.Output()}");
        return JsonDocument.Parse(await stdout).RootElement.Clone();
    }

    IEnumerable<Process> NodeProcesses() =>
        Process.GetProcessesByName("midia-node").Where(p => CommandLine(p.Id).Contains(network.Dir));

    IEnumerable<Process> NetworkProcesses() =>
        NodeProcesses().Concat(Process.GetProcessesByName("midia-coordinator").Where(p => CommandLine(p.Id).Contains(network.Dir)));

    static string CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' '); }
        catch (IOException) { return ""; }
    }
}
