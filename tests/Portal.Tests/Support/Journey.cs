using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Midia.Portal.Tests.Support;

/// <summary>
/// Runs one journey of tests/Portal.Tests/browser/journey.js: Node.js with the pinned
/// playwright-core drives Debian's Chromium headless against a real portal and prints what it saw
/// as one JSON line. Screenshots (and the IPS download) land in TestResults/screenshots under the
/// test output folder, kept as artefacts.
/// </summary>
public static class Journey
{
    public const string Chromium = "/usr/bin/chromium";
    public static string BrowserDirectory { get; } = Path.Combine(FindRepositoryRoot(), "tests", "Portal.Tests", "browser");
    public static string Screenshots { get; } = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");

    public static async Task<JsonObject> RunAsync(string journey, Uri portal, string user, object parameters)
    {
        if (!File.Exists(Chromium)) Assert.Fail($"{Chromium} not found: apt-get install -y chromium (or run .ci/run)");
        if (!File.Exists(Path.Combine(BrowserDirectory, "node_modules", "playwright-core", "package.json")))
            Assert.Fail($"playwright-core is not installed: `npm ci` in {BrowserDirectory} (or run .ci/run)");
        var spec = JsonSerializer.SerializeToNode(parameters)!.AsObject();
        spec["journey"] = journey;
        spec["baseUrl"] = portal.ToString();
        spec["user"] = user;
        spec["password"] = PortalTestNetwork.Password;
        spec["screenshots"] = Screenshots;
        spec["chromium"] = Chromium;
        Directory.CreateDirectory(Screenshots);
        var specFile = Path.Combine(Path.GetTempPath(), $"midia-journey-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(specFile, spec.ToJsonString());
        try
        {
            using var process = new Process
            {
                StartInfo = new ProcessStartInfo("node", [Path.Combine(BrowserDirectory, "journey.js"), specFile])
                {
                    WorkingDirectory = BrowserDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                },
            };
            process.Start();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            // Generous: a loaded 2-core CI machine starts Chromium slowly. Not a speed assertion.
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            try { await process.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"journey {journey} did not finish within 5 minutes: {await stderr}");
            }
            var line = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'));
            if (line is null) Assert.Fail($"journey {journey} printed no result (exit {process.ExitCode}): {await stderr}");
            var result = JsonNode.Parse(line)!.AsObject();
            if (result["ok"]?.GetValue<bool>() != true)
                Assert.Fail($"journey {journey} failed: {result["error"]}\nobserved: {result["observed"]}\nscreenshots in {Screenshots}");
            return result["observed"]!.AsObject();
        }
        finally
        {
            File.Delete(specFile);
        }
    }

    static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Midia.Federated.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Midia.Federated.sln above {AppContext.BaseDirectory}");
    }
}
