using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Midia.CertsDev;
using Midia.Coordinator.Serve;
using Midia.Node.Audit;
using Midia.Node.Disclosure;
using Midia.Node.Linkage;
using Midia.Node.Policy;
using Midia.Node.Serve;
using Midia.Node.Tests.Query;
using Midia.Trust;
using Xunit;
using static Midia.Node.Tests.Query.Ccdl;

namespace Midia.Node.Tests.Coordinator;

/// <summary>
/// A query is checked once, with the node's own parser, before the coordinator asks anyone: a real
/// node and a real coordinator on loopback (mutual TLS, dev certificates) and the real `midia`
/// executable. An invalid query is refused at once with its JSON path, reaches no node (the node's
/// audit, which records every request it receives, stays empty) and uses no quota; `midia count`
/// exits non-zero for it and whenever no site answered ok.
/// </summary>
public sealed class QueryValidationTests : IAsyncLifetime
{
    readonly string folder = Directory.CreateTempSubdirectory("midia-validation-").FullName;
    readonly SiteFile site = new();
    WebApplication node = null!, coordinator = null!;
    string certs = null!;
    Uri coordinatorAddress = null!;

    public async Task InitializeAsync()
    {
        certs = Path.Combine(folder, "certs");
        DevCertificates.CreateNetwork(certs, ["erlangen"]);
        string Cert(string name) => Path.Combine(certs, name);

        var woman = site.Patient("female", new DateOnly(1960, 1, 1));
        site.Fact(woman, Icd, "C50.4", resourceType: "Condition");
        site.Provision(woman, global::Midia.Node.Consent.ConsentPolicies.Research, permit: true, null, null);
        site.Commit();
        new QueryApproval(site.Connection).Approve(QueryTypes.CohortCount, null, null);
        new DisclosureControl(site.Connection).Configure(QueryTypes.CohortCount, null, null, null, exact: true);

        var nodeSettings = new NodeSettings("erlangen", site.DatabasePath, new IPEndPoint(IPAddress.Loopback, 0),
            TlsMaterial.Load(Cert("node-erlangen.crt"), Cert("node-erlangen.key"), Cert("ca.crt")),
            new Uri("https://127.0.0.1:9"), LinkageKey.Load(Cert("linkage.key"))) { Sessions = 2 };
        node = NodeServer.Create(nodeSettings, configure: builder => builder.Logging.ClearProviders());
        var nodeAddress = await node.StartNetworkServerAsync();

        var sites = Path.Combine(folder, "sites.json");
        File.WriteAllText(sites, JsonSerializer.Serialize(new[] { new { id = "erlangen", address = nodeAddress.ToString().TrimEnd('/') } }));
        var settings = new CoordinatorSettings(new IPEndPoint(IPAddress.Loopback, 0),
            TlsMaterial.Load(Cert("coordinator.crt"), Cert("coordinator.key"), Cert("ca.crt")), Path.Combine(folder, "coordinator.db"), sites);
        coordinator = CoordinatorServer.Create(settings, configure: builder => builder.Logging.ClearProviders());
        coordinatorAddress = await coordinator.StartNetworkServerAsync();
    }

    public async Task DisposeAsync()
    {
        await coordinator.DisposeAsync();
        await node.DisposeAsync();
        site.Dispose();
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }

    /// <summary>`midia` from the cli's own build output (built with this project): its dependencies are all there.</summary>
    static string MidiaExecutable()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var root = output;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Midia.Federated.sln"))) root = root.Parent;
        Assert.NotNull(root);
        return Path.Combine(root.FullName, "cli", "bin", output.Parent!.Name, output.Name, OperatingSystem.IsWindows() ? "midia.exe" : "midia");
    }

    (int Exit, string Out, string Err) Midia(params string[] args)
    {
        var start = new ProcessStartInfo(MidiaExecutable()) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["MIDIA_COORDINATOR"] = coordinatorAddress.ToString().TrimEnd('/');
        start.Environment["MIDIA_CERT"] = Path.Combine(certs, "researcher.crt");
        start.Environment["MIDIA_KEY"] = Path.Combine(certs, "researcher.key");
        start.Environment["MIDIA_CA"] = Path.Combine(certs, "ca.crt");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    string QueryFile(string json)
    {
        var path = Path.Combine(folder, $"query-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    long QuotaUsedThisMinute()
    {
        var (exit, output, error) = Midia("quota", "--json");
        Assert.True(exit == 0, error);
        using var quota = JsonDocument.Parse(output);
        return quota.RootElement.GetProperty("windows").EnumerateArray().Max(w => w.GetProperty("used").GetInt64());
    }

    int RequestsTheNodeReceived() => new AuditLog(site.Connection).Read().Count;

    [Fact]
    public void AnInvalidQueryIsRefusedWithItsPathBeforeAnySiteIsAskedAndCostsNoQuota()
    {
        var invalid = QueryFile(Only(Code(Loinc, "2857-1", ""","valueFilter":{"type":"quantity-comparator","comparator":"gte","value":4}""")));
        var unsupported = QueryFile($$"""
            {"version":"3","inclusionCriteria":[[{"id":"a","anchorOccurrence":"any","criteria":[[{{Code(Icd, "C50")}}]]},
              {"relativeTimeRestrictions":[{"anchorRef":"a","maxOffset":"P1D"}],"criteria":[[{{Code(Icd, "C61")}}]]}]]}
            """);

        var refused = Midia("count", invalid, "--json");
        Assert.Equal(1, refused.Exit);
        Assert.Equal("", refused.Out);
        Assert.Equal("error: query: inclusionCriteria[0][0].valueFilter.comparator: unknown comparator 'gte'; use one of eq, ne, lt, le, gt, ge\n", refused.Err);

        var notEvaluable = Midia("count", unsupported);
        Assert.Equal(1, notEvaluable.Exit);
        Assert.StartsWith("error: query: inclusionCriteria[0][0].anchorOccurrence: anchorOccurrence any", notEvaluable.Err);

        Assert.Equal(0, RequestsTheNodeReceived());
        Assert.Equal(0, QuotaUsedThisMinute());

        // The same network answers a valid question: the node is asked once and one quota slot is used.
        var valid = Midia("count", QueryFile(Only(Code(Icd, "C50"))), "--json");
        Assert.True(valid.Exit == 0, valid.Err);
        using (var answer = JsonDocument.Parse(valid.Out))
        {
            var erlangen = Assert.Single(answer.RootElement.GetProperty("sites").EnumerateArray());
            Assert.Equal("ok", erlangen.GetProperty("status").GetString());
            Assert.Equal(1, erlangen.GetProperty("value").GetInt64());
        }
        Assert.Equal(1, RequestsTheNodeReceived());
        Assert.Equal(1, QuotaUsedThisMinute());
    }

    [Fact]
    public void MidiaCountExitsNonZeroWhenNoSiteAnsweredOkAndStillPrintsItsJson()
    {
        // The site has not approved stratified counts: it refuses, and that is every site there is.
        var (exit, output, error) = Midia("count", QueryFile(Only(Code(Icd, "C50"))), "--stratify", "sex", "--json");

        Assert.Equal(1, exit);
        using var answer = JsonDocument.Parse(output);
        Assert.Equal("not_approved", Assert.Single(answer.RootElement.GetProperty("sites").EnumerateArray()).GetProperty("status").GetString());
        Assert.Equal("error: no site answered ok (erlangen: not_approved)\n", error);
        Assert.Equal(1, RequestsTheNodeReceived()); // asked, and refused: the node's audit says so
    }
}
