using Midia.Consent.Tests.Support;
using Midia.Node.Consent;
using Midia.Node.Linkage;
using Midia.Node.Policy;
using Midia.Node.Store;
using Midia.Portal.Tests.Support;
using Midia.Protos.Coordinator.V1;
using ResearchClient = Midia.Protos.Coordinator.V1.Research.ResearchClient;

namespace Midia.Portal.Tests;

/// <summary>
/// The researcher's and the site admin's journeys in headless Chromium against a real network
/// (two nodes, the coordinator, erlangen's portal; loopback, mutual TLS): what the page shows is
/// compared with the test's own knowledge of the data, and the effect is checked in the system
/// (the coordinator's history for that researcher; the node's approvals and its next answer).
/// </summary>
public sealed class ResearchAdminJourneyTests : IAsyncLifetime
{
    const string BreastCancer = """{"version": "http://to_be_decided.com/draft-1/schema#", "display": "Breast cancer (C50)", "inclusionCriteria": [[{"termCodes": [{"code": "C50", "system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "display": "Breast cancer"}]}]]}""";

    // Who has breast cancer where (the test's own knowledge): erlangen 3, munich 1; one man with C61 at munich.
    static readonly (string Site, ClinicalRecord Record)[] Records =
    [
        ("erlangen", Woman("e-1", "A100000001", "C50.4")), ("erlangen", Woman("e-2", "A100000002", "C50.1")), ("erlangen", Woman("e-3", "A100000003", "C50.9")),
        ("munich", Woman("m-1", "A100000004", "C50.2")),
        ("munich", new ClinicalRecord("m-2", "A100000005", "Roth", "Max", new(1950, 1, 1), "male", null, [ClinicalFact.Condition(CodeSystems.Icd10Gm, "C61", "Prostate cancer", new(2019, 1, 1))])),
    ];

    static ClinicalRecord Woman(string id, string kvnr, string code) =>
        new(id, kvnr, "Test", "Person", new(1965, 4, 4), "female", null, [ClinicalFact.Condition(CodeSystems.Icd10Gm, code, "Breast cancer", new(2021, 1, 1))]);

    readonly PortalTestNetwork network = new("erlangen", "munich");
    Uri portal = null!;

    public async Task InitializeAsync()
    {
        foreach (var site in new[] { "erlangen", "munich" })
        {
            network[site].ImportFhir("records.json", ClinicalRecord.Bundle([.. Records.Where(r => r.Site == site).Select(r => r.Record)]));
            using var connection = SiteDatabase.Open(network[site].DbPath);
            using (var permit = connection.CreateCommand())
            {
                permit.CommandText = "INSERT INTO consent_provision(pid, policy, permit, source) SELECT pid, $policy, 1, 'Consent/broad-' || resource_id FROM patient";
                permit.Parameters.AddWithValue("$policy", ConsentPolicies.Research);
                permit.ExecuteNonQuery();
            }
            SiteDatabase.BumpDataVersion(connection, null);
            LinkagePseudonym.FillMissing(connection, network.Key);
            network[site].ApproveExact(QueryTypes.CohortCount);
        }
        // Stratified counts: munich approved them, erlangen has not yet (deny by default).
        network["munich"].ApproveExact(QueryTypes.StratifiedCount);
        await network.StartAsync();
        portal = (await network["erlangen"].StartPortalAsync(("ada", "researcher", null), ("root", "site-admin", null))).Address;
    }

    public async Task DisposeAsync() => await network.DisposeAsync();

    [Fact]
    public async Task A_researcher_counts_breast_cancer_across_the_network_and_the_count_is_in_her_history()
    {
        var seen = await Journey.RunAsync("researcher-count", portal, "ada", new { ccdl = BreastCancer });

        Assert.Equal("/Research", seen["landedOn"]!.GetValue<string>());
        Assert.Equal("", seen["problem"]!.GetValue<string>());
        var expected = new[] { "erlangen", "munich" }.Select(site => $"{site} ok {Records.Count(r => r.Site == site && r.Record.Facts.Any(f => f.Code.StartsWith("C50", StringComparison.Ordinal)))}");
        Assert.Equal(expected, seen["sites"]!.AsArray().Select(s => $"{s!["site"]} {s["status"]} {s["count"]}"));
        Assert.StartsWith("Total: 4", seen["total"]!.GetValue<string>());

        // The effect in the system: the coordinator holds the query in ada's history (she is the end user the portal named).
        var history = await new ResearchClient(network.Client(network.Material("researcher", "ada"))).HistoryAsync(new HistoryRequest(), PortalTestNetwork.Deadline());
        var entry = Assert.Single(history.Entries);
        Assert.Equal(4, entry.Total.Value);
        Assert.Contains("\"C50\"", entry.CcdlJson);
    }

    [Fact]
    public async Task A_researcher_finds_breast_cancer_in_the_code_search_and_sees_the_stratified_count_drawn()
    {
        network["erlangen"].ApproveExact(QueryTypes.StratifiedCount);

        // "breast" is the English name of ICD-10-GM C50; the code list is German otherwise.
        var seen = await Journey.RunAsync("researcher-count", portal, "ada", new { search = "breast cancer", pickCode = "C50", stratifyBy = new[] { "sex" } });

        Assert.Contains("C50", seen["offered"]!.AsArray().Select(c => c!.GetValue<string>()));
        var built = System.Text.Json.Nodes.JsonNode.Parse(seen["built"]!.GetValue<string>())!;
        var term = Assert.Single(built["inclusionCriteria"]!.AsArray().SelectMany(g => g!.AsArray()))!.AsObject()["termCodes"]![0]!;
        Assert.Equal(("C50", CodeSystems.Icd10Gm), (term["code"]!.GetValue<string>(), term["system"]!.GetValue<string>()));
        Assert.Equal("", seen["problem"]!.GetValue<string>());
        Assert.Equal(["erlangen ok", "munich ok"], seen["sites"]!.AsArray().Select(s => $"{s!["site"]} {s["status"]}"));

        // Every breast cancer patient of the test is a woman: one stratum, 4. The chart shows what the table shows.
        var table = seen["strataTable"]!.AsArray().Select(r => (r!["key"]!.GetValue<string>(), r["count"]!.GetValue<string>())).ToList();
        var (key, count) = Assert.Single(table);
        Assert.Contains("female", key, StringComparison.Ordinal);
        Assert.Equal("4", count);
        var chart = seen["chart"]!;
        Assert.Equal("bar", chart["type"]!.GetValue<string>());
        Assert.Equal([key], chart["labels"]!.AsArray().Select(l => l!.GetValue<string>()));
        Assert.Equal([4.0], chart["values"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.True(chart["width"]!.GetValue<int>() > 0 && chart["height"]!.GetValue<int>() > 0);
        Assert.True(chart["inked"]!.GetValue<int>() > 0, "the canvas is blank");
        Assert.Equal([chart["colour"]!.GetValue<string>()], chart["bars"]!.AsArray().Select(b => b!.GetValue<string>()));
    }

    [Fact]
    public async Task A_site_admin_approves_a_pending_query_type_with_one_click_and_the_site_answers_from_then_on()
    {
        // A researcher asks for a stratified count: erlangen refuses it and lists it as pending.
        var first = await StratifiedAsync();
        Assert.Equal(SiteStatus.NotApproved, first["erlangen"]);

        var seen = await Journey.RunAsync("admin-approve", portal, "root", new { queryType = QueryTypes.StratifiedCount });
        Assert.Equal("/Admin", seen["landedOn"]!.GetValue<string>());
        Assert.Contains(QueryTypes.StratifiedCount, Types(seen["before"]!, "Pending requests"));
        Assert.DoesNotContain(QueryTypes.StratifiedCount, Types(seen["before"]!, "Approved"));
        Assert.DoesNotContain(QueryTypes.StratifiedCount, Types(seen["after"]!, "Pending requests"));
        Assert.Contains(QueryTypes.StratifiedCount, Types(seen["after"]!, "Approved"));

        // The effect: the node's own approvals hold it, and erlangen answers the next stratified count.
        using (var connection = SiteDatabase.Open(network["erlangen"].DbPath))
            Assert.True(new QueryApproval(connection).Check(QueryTypes.StratifiedCount, null, Days.Today()).Allowed);
        var next = await StratifiedAsync("by sex, after approval");
        Assert.Equal(SiteStatus.Ok, next["erlangen"]);
    }

    static List<string> Types(System.Text.Json.Nodes.JsonNode sections, string heading) =>
        [.. sections.AsArray().Where(s => s!["heading"]!.GetValue<string>() == heading).SelectMany(s => s!["types"]!.AsArray().Select(t => t!.GetValue<string>()))];

    /// <summary>A stratified count by sex through the coordinator's API; each site's status.</summary>
    async Task<Dictionary<string, SiteStatus>> StratifiedAsync(string display = "by sex")
    {
        var ccdl = BreastCancer.Replace("Breast cancer (C50)", "Breast cancer (C50) " + display, StringComparison.Ordinal);
        var research = new ResearchClient(network.Client(network.Material("researcher", "Dr Strat")));
        using var call = research.Count(new CountRequest { CcdlJson = ccdl, StratifyBy = { "sex" } }, PortalTestNetwork.Deadline(120));
        var sites = new Dictionary<string, SiteStatus>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
            if (call.ResponseStream.Current.Site is { } site) sites[site.Site] = site.Status;
        return sites;
    }
}
