using System.Diagnostics;
using Midia.Consent.Tests.Support;
using Midia.Node.Consent;

namespace Midia.Consent.Tests;

/// <summary>
/// The executables as operators run them — `midia-coordinator serve`, `midia-node serve`,
/// `midia-node consent set` — each its own process, killed with SIGKILL mid-way and restarted.
/// </summary>
public sealed class ProcessKillTests : IAsyncLifetime
{
    readonly ConsentNetwork network = new("erlangen", "munich");
    readonly Dictionary<string, Process> running = [];

    public Task InitializeAsync()
    {
        network["erlangen"].Import(new TestPatient("p-anna-e", "A123456789", "Meier", "Anna", new DateOnly(1960, 3, 1), "female"));
        network["munich"].Import(new TestPatient("p-anna-m", "A123456789", "Meier", "Anna", new DateOnly(1960, 3, 1), "female"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var name in running.Keys.ToList()) Kill(name);
        await network.DisposeAsync();
    }

    [Fact]
    public async Task A_consent_set_process_reaches_the_other_node_and_killed_coordinator_and_node_processes_converge_after_restart()
    {
        StartCoordinator();
        StartNode("erlangen");
        StartNode("munich");

        Assert.Equal(0, Run("midia-node.dll", "consent", "set", "--db", network["erlangen"].DbPath, "--patient", "p-anna-e", "--policy", "research", "--deny"));
        await ConsentNetwork.Eventually(() => !network["munich"].Permitted("p-anna-m"), "munich's serve process applied erlangen's revocation");

        // Munich dies; erlangen's next change is accepted by the coordinator, which dies before it could push it to munich.
        Kill("munich");
        Assert.Equal(0, Run("midia-node.dll", "consent", "set", "--db", network["erlangen"].DbPath, "--patient", "p-anna-e", "--policy", "care-sharing", "--permit"));
        await ConsentNetwork.Eventually(() => network.Log().Count == 2, "the coordinator logged the second change");
        Kill("coordinator");
        Assert.Equal(1, network["munich"].Network().Cursor);

        StartNode("munich");
        StartCoordinator();
        await ConsentNetwork.Eventually(() => network["munich"].Network().Cursor == 2 && network["erlangen"].Network().Cursor == 2, "both nodes hold both changes", seconds: 60);
        foreach (var site in new[] { "erlangen", "munich" })
            Assert.Equal(new Dictionary<long, int> { [1] = 1, [2] = 1 }, network[site].Network().RowsPerSeq);
        Assert.True(network["munich"].Permitted("p-anna-m", ConsentPolicies.CareSharing));
        Assert.False(network["munich"].Permitted("p-anna-m"));
        Assert.Equal(2, network.Log().Count);
    }

    void StartCoordinator()
    {
        var (cert, key, ca, _) = network.WritePem("coordinator", "coordinator");
        running["coordinator"] = Start("midia-coordinator.dll", "serve", "--listen", $"127.0.0.1:{network.CoordinatorPort}", "--cert", cert, "--key", key, "--ca", ca,
            "--db", network.CoordinatorDb, "--sites", network.SitesFile);
    }

    void StartNode(string site)
    {
        var (cert, key, ca, linkage) = network.WritePem("node", $"node-{site}", site);
        var node = network[site];
        running[site] = Start("midia-node.dll", "serve", "--site", site, "--db", node.DbPath, "--listen", node.Address["https://".Length..],
            "--cert", cert, "--key", key, "--ca", ca, "--coordinator", $"https://127.0.0.1:{network.CoordinatorPort}", "--linkage-key", linkage);
    }

    void Kill(string name)
    {
        var process = running[name];
        running.Remove(name);
        if (!process.HasExited) process.Kill(entireProcessTree: true);   // SIGKILL: no shutdown, no flush
        process.WaitForExit();
        process.Dispose();
    }

    static Process Start(string dll, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var a in args) start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    static int Run(string dll, params string[] args)
    {
        using var process = Start(dll, args);
        process.WaitForExit();
        return process.ExitCode;
    }
}
