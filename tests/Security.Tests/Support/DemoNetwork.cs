using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Midia.Security.Tests.Support;

[CollectionDefinition(Name)]
public sealed class DemoNetworkCollection : ICollectionFixture<DemoNetwork>
{
    public const string Name = "demo network";
}

/// <summary>
/// The network as an operator starts it: `midia dev up` (dev certificates from certs-dev, synthetic
/// FHIR data imported into real SQLite site databases, every query type approved) runs three
/// `midia-node serve` processes and one `midia-coordinator serve` process over mutual TLS on
/// 127.0.0.1 and free ports, each logging to DIR/logs/NAME.log. Shared by the tests of the collection;
/// also compiled into Coordinator.Tests, whose demo test starts its own.
/// </summary>
public sealed class DemoNetwork : IAsyncLifetime
{
    // Settable for a test that starts its own network; xunit wants one parameterless constructor.
    public int Patients { get; init; } = 60;
    public int Seed { get; init; } = 8;
    public TimeSpan UpWithin { get; init; } = TimeSpan.FromMinutes(4);

    public static readonly string[] Sites = ["erlangen", "munich", "practice"];
    /// <summary>The sites `dev up` gives a web portal (base port + 101, + 102), each with its accounts file.</summary>
    public static readonly string[] PortalSites = ["erlangen", "munich"];
    readonly StringBuilder output = new();
    Process devUp = null!;

    public string Dir { get; } = Directory.CreateTempSubdirectory("midia-devup-").FullName;
    public int BasePort { get; } = Midia.Consent.Tests.Support.LoopbackPorts.FreeRange(Sites.Length + 1, PortalSites.Length);
    public string Certs => Path.Combine(Dir, "certs");
    public string Logs => Path.Combine(Dir, "logs");
    public string Data => Path.Combine(Dir, "data");
    public Uri Coordinator => new($"https://127.0.0.1:{BasePort}");
    public Uri Node(string site) => new($"https://127.0.0.1:{BasePort + 1 + Array.IndexOf(Sites, site)}");
    public Uri Portal(string site) => new($"https://127.0.0.1:{BasePort + 101 + Array.IndexOf(PortalSites, site)}");
    public string PortalAccounts(string site) => Path.Combine(Dir, $"portal-{site}-accounts.json");

    /// <summary>
    /// The private keys `midia dev certs` writes (its documentation: ca, coordinator, researcher,
    /// and per site node, clinician, site-admin and portal; plus the sites' linkage key), by file name.
    /// Every role certs-dev issues must be in it, so a new role cannot slip past the mode checks.
    /// </summary>
    public static SortedSet<string> DevCertKeys(IEnumerable<string> sites)
    {
        string[] networkWide = ["coordinator", "researcher"];
        var keys = new SortedSet<string>(StringComparer.Ordinal) { "ca.key", "linkage.key" };
        foreach (var role in Midia.CertsDev.DevCertificates.Roles)
            if (networkWide.Contains(role)) keys.Add(role + ".key");
            else foreach (var site in sites) keys.Add($"{role}-{site}.key");
        return keys;
    }
    public string Db(string site) => Path.Combine(Dir, site + ".db");
    /// <summary>What `midia dev up` itself printed.</summary>
    public string Output() { lock (output) return output.ToString(); }

    public async Task InitializeAsync()
    {
        var start = Start("midia", "dev", "up", "--dir", Dir, "--patients", Patients.ToString(CultureInfo.InvariantCulture), "--seed", Seed.ToString(CultureInfo.InvariantCulture), "--base-port", BasePort.ToString(CultureInfo.InvariantCulture));
        devUp = Process.Start(start)!;
        var up = new TaskCompletionSource();
        devUp.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); if (e.Data?.Contains("demo network is up") == true) up.TrySetResult(); };
        devUp.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        devUp.BeginOutputReadLine();
        devUp.BeginErrorReadLine();
        await Task.WhenAny(up.Task, devUp.WaitForExitAsync(), Task.Delay(UpWithin));
        if (!up.Task.IsCompleted) throw new InvalidOperationException($"`midia dev up` did not come up within {UpWithin.TotalMinutes:0} minutes:\n{Output()}");
    }

    public async Task DisposeAsync()
    {
        if (!devUp.HasExited)
        {
            // SIGTERM: dev up stops its children gracefully (SIGINT may be ignored in a background job).
            if (OperatingSystem.IsWindows() || Signal(devUp.Id, 15) != 0) devUp.Kill(entireProcessTree: true);
            if (!devUp.WaitForExit(TimeSpan.FromSeconds(30))) devUp.Kill(entireProcessTree: true);
        }
        await devUp.WaitForExitAsync();
        devUp.Dispose();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>One of the executables next to the tests (midia, midia-node, midia-coordinator), run to its end.</summary>
    public static async Task<(int Exit, string Out, string Err)> RunAsync(string executable, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = Start(executable, [.. args]);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{executable} {string.Join(' ', args)} did not finish within 2 minutes");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The environment `midia` reads to reach the coordinator as the holder of certs/NAME.crt.</summary>
    public IReadOnlyDictionary<string, string> As(string certificate) => new Dictionary<string, string>
    {
        ["MIDIA_COORDINATOR"] = Coordinator.ToString().TrimEnd('/'),
        ["MIDIA_CA"] = Path.Combine(Certs, "ca.crt"),
        ["MIDIA_CERT"] = Path.Combine(Certs, certificate + ".crt"),
        ["MIDIA_KEY"] = Path.Combine(Certs, certificate + ".key"),
    };

    static ProcessStartInfo Start(string executable, params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, executable)) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        return start;
    }

    [DllImport("libc", EntryPoint = "kill")]
    static extern int Signal(int pid, int signal);

    public static string Repository()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Midia.Federated.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }
}
