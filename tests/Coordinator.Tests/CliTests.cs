using System.Diagnostics;
using System.Text.Json;
using Midia.Coordinator.Tests.Support;
using Grpc.Core;

namespace Midia.Coordinator.Tests;

/// <summary>The real `midia` executable against the real coordinator: what a researcher's script would parse.</summary>
public sealed class CliTests
{
    [Fact]
    public async Task CountJsonHasExactlyTheDocumentedShape()
    {
        await using var network = new TestNetwork();
        (await network.AddNodeAsync("erlangen")).Behaviour = (_, _) => Task.FromResult(ScriptedNode.Released(60));
        (await network.AddNodeAsync("practice")).Behaviour = (_, _) => Task.FromResult(ScriptedNode.BelowThreshold());
        (await network.AddNodeAsync("munich")).Behaviour = (_, _) => throw new RpcException(new Status(StatusCode.PermissionDenied, "no"), new Metadata { { "midia-site-status", "not_approved" } });
        await network.StartCoordinatorAsync();
        var query = Path.Combine(network.Folder, "query.json");
        await File.WriteAllTextAsync(query, TestNetwork.Query());

        await network.Client().RegisterProjectAsync("p1");

        var (exit, stdout, stderr) = await Midia(network, "count", query, "--json", "--project", "p1");

        Assert.True(exit == 0, stderr);
        using var document = JsonDocument.Parse(stdout);
        var root = document.RootElement;
        Assert.Equal(["queryId", "total", "sites"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(32, root.GetProperty("queryId").GetString()!.Length);
        var total = root.GetProperty("total");
        Assert.Equal(["value", "obfuscated", "belowThreshold"], total.EnumerateObject().Select(p => p.Name));
        Assert.Equal(60, total.GetProperty("value").GetInt64());
        Assert.True(total.GetProperty("obfuscated").GetBoolean());
        Assert.False(total.GetProperty("belowThreshold").GetBoolean());
        var sites = root.GetProperty("sites").EnumerateArray().ToDictionary(s => s.GetProperty("site").GetString()!);
        Assert.Equal(["erlangen", "munich", "practice"], sites.Keys.Order());
        Assert.Equal(["site", "status", "value", "obfuscated", "belowThreshold"], sites["erlangen"].EnumerateObject().Select(p => p.Name));
        Assert.Equal("ok", sites["erlangen"].GetProperty("status").GetString());
        Assert.Equal(60, sites["erlangen"].GetProperty("value").GetInt64());
        Assert.Equal(["site", "status", "value", "belowThreshold"], sites["practice"].EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, sites["practice"].GetProperty("value").ValueKind);
        Assert.True(sites["practice"].GetProperty("belowThreshold").GetBoolean());
        Assert.Equal(["site", "status", "message"], sites["munich"].EnumerateObject().Select(p => p.Name));
        Assert.Equal("not_approved", sites["munich"].GetProperty("status").GetString());
        Assert.Equal("query type cohort-count not approved by the site admin", sites["munich"].GetProperty("message").GetString());
    }

    [Fact]
    public async Task AnUnreachableCoordinatorIsOneErrorLineNamingIt()
    {
        await using var network = new TestNetwork();
        var query = Path.Combine(network.Folder, "query.json");
        await File.WriteAllTextAsync(query, TestNetwork.Query());
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var (exit, stdout, stderr) = await MidiaAt(network, $"https://127.0.0.1:{port}", "count", query, "--json");

        Assert.NotEqual(0, exit);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"error: coordinator https://127.0.0.1:{port} unavailable: ", line);
    }

    [Fact]
    public async Task CountWithoutJsonPrintsEachSiteAndTheTotalInPlainWords()
    {
        await using var network = new TestNetwork();
        (await network.AddNodeAsync("erlangen")).Behaviour = (_, _) => Task.FromResult(ScriptedNode.Released(60));
        (await network.AddNodeAsync("munich")).Behaviour = (_, _) => Task.FromResult(ScriptedNode.Released(80));
        await network.StartCoordinatorAsync();
        var query = Path.Combine(network.Folder, "query.json");
        await File.WriteAllTextAsync(query, TestNetwork.Query());

        var (exit, stdout, stderr) = await Midia(network, "count", query);

        Assert.True(exit == 0, stderr);
        Assert.Contains("erlangen", stdout);
        Assert.Contains("≈ 60", stdout);
        Assert.Contains("total: ≈ 140", stdout);
        Assert.Contains("sum of 2 sites' obfuscated counts (discrete Laplace noise (epsilon 0.5), rounded to 10)", System.Text.RegularExpressions.Regex.Replace(stdout, @"\s+", " "));
        Assert.DoesNotContain("\u001b[", stdout);
    }

    [Fact]
    public async Task AQueryFileThatIsNotJsonIsRefusedNamingTheFileAndLine()
    {
        await using var network = new TestNetwork();
        var query = Path.Combine(network.Folder, "broken.json");
        await File.WriteAllTextAsync(query, "{\n  \"inclusionCriteria\": [,\n}");

        var (exit, stdout, stderr) = await MidiaAt(network, "https://127.0.0.1:1", "count", query, "--json");

        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        Assert.StartsWith($"error: {query}:2:", stderr.Trim());
    }

    [Fact]
    public async Task QuotaJsonStatesLimitsAndUse()
    {
        await using var network = new TestNetwork { Quota = new Midia.Coordinator.Quota.QuotaOptions() };
        (await network.AddNodeAsync("erlangen")).Behaviour = (_, _) => Task.FromResult(ScriptedNode.Released(60));
        await network.StartCoordinatorAsync();
        var query = Path.Combine(network.Folder, "query.json");
        await File.WriteAllTextAsync(query, TestNetwork.Query());
        Assert.Equal(0, (await Midia(network, "count", query, "--json")).Item1);

        var (exit, stdout, stderr) = await Midia(network, "quota", "--json");

        Assert.True(exit == 0, stderr);
        using var document = JsonDocument.Parse(stdout);
        var windows = document.RootElement.GetProperty("windows").EnumerateArray().ToDictionary(w => w.GetProperty("window").GetString()!);
        Assert.Equal((3, 1), (windows["per minute"].GetProperty("limit").GetInt32(), windows["per minute"].GetProperty("used").GetInt32()));
        Assert.Equal((50, 1), (windows["per 7 days"].GetProperty("limit").GetInt32(), windows["per 7 days"].GetProperty("used").GetInt32()));
        Assert.Equal("Dr Cli Researcher", document.RootElement.GetProperty("researcher").GetString());
    }

    [Fact]
    public async Task ProjectRegisterPublishAndListAndACountNamingAnUnregisteredProjectIsOneErrorLine()
    {
        await using var network = new TestNetwork();
        (await network.AddNodeAsync("erlangen")).Behaviour = (_, _) => Task.FromResult(ScriptedNode.Released(60));
        await network.StartCoordinatorAsync();
        var query = Path.Combine(network.Folder, "query.json");
        await File.WriteAllTextAsync(query, TestNetwork.Query());

        var refused = await Midia(network, "count", query, "--project", "ms-study");
        Assert.Equal(1, refused.Item1);
        Assert.Equal("error: project ms-study is not registered: midia project register --id ms-study --title T --question Q --institution I", refused.Item3.Trim());
        Assert.Equal(0, network.Node("erlangen").Calls);

        var registered = await Midia(network, "project", "register", "--id", "ms-study", "--title", "MS therapies", "--question", "Which therapy slows MS most?", "--institution", "LMU München");
        Assert.True(registered.Item1 == 0, registered.Item3);
        var again = await Midia(network, "project", "register", "--id", "ms-study", "--title", "x", "--question", "y", "--institution", "z");
        Assert.Equal(1, again.Item1);
        Assert.StartsWith("error: project ms-study is already registered", again.Item3.Trim());
        Assert.Equal(0, (await Midia(network, "count", query, "--project", "ms-study", "--json")).Item1);
        var published = await Midia(network, "project", "publish", "--id", "ms-study", "--result", "Newer therapies slowed it most.");
        Assert.True(published.Item1 == 0, published.Item3);

        var (exit, stdout, stderr) = await Midia(network, "project", "list", "--json");
        Assert.True(exit == 0, stderr);
        using var document = JsonDocument.Parse(stdout);
        var project = Assert.Single(document.RootElement.GetProperty("projects").EnumerateArray());
        Assert.Equal(("ms-study", "MS therapies", "Which therapy slows MS most?", "LMU München", "Dr Cli Researcher", "Newer therapies slowed it most."),
            (project.GetProperty("id").GetString(), project.GetProperty("title").GetString(), project.GetProperty("question").GetString(),
             project.GetProperty("institution").GetString(), project.GetProperty("registeredBy").GetString(), project.GetProperty("result").GetString()));
    }

    static Task<(int, string, string)> Midia(TestNetwork network, params string[] args) => MidiaAt(network, network.CoordinatorAddress.ToString().TrimEnd('/'), args);

    static async Task<(int Exit, string Stdout, string Stderr)> MidiaAt(TestNetwork network, string coordinator, params string[] args)
    {
        var (cert, key, ca) = network.WritePem("researcher", "Dr Cli Researcher");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "midia.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["MIDIA_COORDINATOR"] = coordinator;
        start.Environment["MIDIA_CERT"] = cert;
        start.Environment["MIDIA_KEY"] = key;
        start.Environment["MIDIA_CA"] = ca;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await stdout, await stderr);
    }
}
