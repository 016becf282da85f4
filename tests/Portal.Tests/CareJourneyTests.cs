using System.Text.Json.Nodes;
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
/// The physician's and the patient's journeys in headless Chromium against a real network (two
/// nodes, the coordinator, a portal per site — all on loopback with mutual TLS), and the issue's
/// acceptance check: a revocation clicked in the patient view at erlangen changes a researcher's
/// count and hides erlangen's data from a physician's summary at munich. What should be on screen
/// is read off the test's own FHIR data, never off the portal's output.
/// </summary>
public sealed class CareJourneyTests : IAsyncLifetime
{
    const string AnnaKvnr = "A123456780";
    static readonly DateOnly AnnaBorn = new(1960, 3, 1), CarlBorn = new(1950, 1, 1);
    const string Ca153 = "6875-9", Psa = "2857-1", EdssSystem = "https://fhir.midia-hub.de/CodeSystem/ms-assessment";

    // Anna: breast cancer with CA 15-3 at erlangen, MS with EDSS at munich; care-sharing permitted at both.
    static readonly ClinicalRecord AnnaErlangen = new("e-anna", AnnaKvnr, "Meier", "Anna", AnnaBorn, "female", true,
    [
        ClinicalFact.Condition(CodeSystems.Icd10Gm, "C50.4", "Breast cancer, upper outer quadrant", new(2021, 2, 10)),
        ClinicalFact.Lab(CodeSystems.Loinc, Ca153, "CA 15-3", new(2021, 2, 12), 35.0, "U/mL"),
        ClinicalFact.Lab(CodeSystems.Loinc, Ca153, "CA 15-3", new(2022, 3, 1), 28.0, "U/mL"),
        ClinicalFact.Lab(CodeSystems.Loinc, Ca153, "CA 15-3", new(2023, 4, 2), 52.5, "U/mL"),
    ]);
    static readonly ClinicalRecord AnnaMunich = new("m-anna", AnnaKvnr, "Meier", "Anna", AnnaBorn, "female", true,
    [
        ClinicalFact.Condition(CodeSystems.Icd10Gm, "G35", "Multiple sclerosis", new(2018, 6, 1)),
        ClinicalFact.Lab(EdssSystem, "edss", "Expanded Disability Status Scale (EDSS)", new(2018, 6, 1), 2.0, "{score}"),
        ClinicalFact.Lab(EdssSystem, "edss", "Expanded Disability Status Scale (EDSS)", new(2020, 6, 1), 2.5, "{score}"),
        ClinicalFact.Lab(EdssSystem, "edss", "Expanded Disability Status Scale (EDSS)", new(2022, 6, 1), 3.5, "{score}"),
    ]);
    // Dora: breast cancer at erlangen only — the count that stays.
    static readonly ClinicalRecord DoraErlangen = new("e-dora", "D100000004", "Kraus", "Dora", new(1970, 5, 5), "female", null,
        [ClinicalFact.Condition(CodeSystems.Icd10Gm, "C50.1", "Breast cancer, central portion", new(2020, 5, 5))]);
    // Carl: prostate cancer; PSA at both sites.
    static readonly ClinicalRecord CarlErlangen = new("e-carl", "C100000003", "Schulz", "Carl", CarlBorn, "male", true,
    [
        ClinicalFact.Condition(CodeSystems.Icd10Gm, "C61", "Prostate cancer", new(2019, 1, 10)),
        ClinicalFact.Lab(CodeSystems.Loinc, Psa, "PSA", new(2019, 1, 10), 12.5, "ng/mL"),
        ClinicalFact.Lab(CodeSystems.Loinc, Psa, "PSA", new(2019, 7, 1), 0.8, "ng/mL"),
    ]);
    static readonly ClinicalRecord CarlMunich = new("m-carl", "C100000003", "Schulz", "Carl", CarlBorn, "male", true,
    [
        ClinicalFact.Lab(CodeSystems.Loinc, Psa, "PSA", new(2020, 1, 15), 1.9, "ng/mL"),
        ClinicalFact.Lab(CodeSystems.Loinc, Psa, "PSA", new(2021, 1, 20), 4.2, "ng/mL"),
    ]);

    readonly PortalTestNetwork network = new("erlangen", "munich");
    Uri erlangenPortal = null!, munichPortal = null!;
    public Uri ErlangenPortal => erlangenPortal;
    public PortalTestNetwork Network => network;

    public async Task InitializeAsync()
    {
        foreach (var (site, records) in new[] { ("erlangen", new[] { AnnaErlangen, DoraErlangen, CarlErlangen }), ("munich", new[] { AnnaMunich, CarlMunich }) })
        {
            network[site].ImportFhir("records.json", ClinicalRecord.Bundle(records));
            using var connection = SiteDatabase.Open(network[site].DbPath);
            // Every patient signed the broad consent for research at their site (a Consent document).
            using (var permit = connection.CreateCommand())
            {
                permit.CommandText = "INSERT INTO consent_provision(pid, policy, permit, source) SELECT pid, $policy, 1, 'Consent/broad-' || resource_id FROM patient";
                permit.Parameters.AddWithValue("$policy", ConsentPolicies.Research);
                permit.ExecuteNonQuery();
            }
            SiteDatabase.BumpDataVersion(connection, null);
            LinkagePseudonym.FillMissing(connection, network.Key);
            foreach (var type in QueryTypes.All) network[site].ApproveExact(type);
        }
        await network.StartAsync();
        erlangenPortal = (await network["erlangen"].StartPortalAsync(("anna", "patient", AnnaKvnr), ("ada", "researcher", null))).Address;
        munichPortal = (await network["munich"].StartPortalAsync(("lena", "clinician", null))).Address;
    }

    public async Task DisposeAsync() => await network.DisposeAsync();

    [Fact]
    public async Task A_physician_finds_her_patient_and_sees_every_sites_PSA_as_one_timeline_and_chart_and_downloads_the_IPS()
    {
        var seen = await Journey.RunAsync("physician-summary", munichPortal, "lena", new { tag = "physician-summary-carl", patient = "m-carl", downloadIps = true });

        Assert.Equal("/Care", seen["landedOn"]!.GetValue<string>());
        Assert.Equal(["erlangen ok", "munich ok"], Sites(seen));
        // Every fact of Carl's from both sites, each with its source site.
        var expected = CarlErlangen.Facts.Select(f => $"{f.Code} {f.DateText} erlangen").Concat(CarlMunich.Facts.Select(f => $"{f.Code} {f.DateText} munich")).Order();
        Assert.Equal(expected, Timeline(seen).Order());
        // The PSA chart holds the four values in date order.
        var psa = Assert.Single(seen["trends"]!.AsArray(), t => t!["label"]!.GetValue<string>() == "PSA")!;
        Assert.True(psa["drawn"]!.GetValue<bool>());
        Assert.Equal(["2019-01-10", "2019-07-01", "2020-01-15", "2021-01-20"], psa["dates"]!.AsArray().Select(d => d!.GetValue<string>()));
        Assert.Empty(seen["consoleErrors"]!.AsArray());
        // The IPS download is a FHIR document Bundle with the IPS Composition.
        var ips = seen["ips"]!;
        Assert.Equal(("Bundle", "document", "60591-5"), (ips["resourceType"]!.GetValue<string>(), ips["type"]!.GetValue<string>(), ips["compositionCode"]!.GetValue<string>()));
        Assert.Equal(CarlErlangen.Facts.Count + CarlMunich.Facts.Count, ips["resources"]!.AsArray().Count(r => r!.GetValue<string>() is "Condition" or "Observation"));
    }

    [Fact]
    public async Task A_revocation_clicked_in_the_patient_view_changes_the_researchers_count_and_hides_the_data_from_a_physician_at_another_site()
    {
        // Before: erlangen counts Anna and Dora; munich's physician sees erlangen's breast cancer and CA 15-3.
        Assert.Equal(2, await ErlangenBreastCancerCountAsync("Breast cancer (C50)"));
        var before = await Journey.RunAsync("physician-summary", munichPortal, "lena", new { tag = "acceptance-1-physician-before", patient = "m-anna" });
        Assert.Equal(["erlangen ok", "munich ok"], Sites(before));
        Assert.Contains("C50.4 2021-02-10 erlangen", Timeline(before));
        Assert.Equal(["EDSS 3", "CA 15-3 3"], Trends(before));

        // Anna, on her phone at erlangen's portal, revokes research and care-sharing: one click each.
        var patient = await Journey.RunAsync("patient-revoke", erlangenPortal, "anna", new { tag = "acceptance-2-patient-revokes", phone = true, revoke = new[] { "research", "care-sharing" }, siteCount = 2 });
        Assert.Equal("/Patient", patient["landedOn"]!.GetValue<string>());
        Assert.Equal(["research True", "care-sharing True"], Purposes(patient["before"]!));
        Assert.Equal(["research False", "care-sharing False"], Purposes(patient["after"]!));
        // Each site says when it applied each change.
        foreach (var purpose in patient["after"]!.AsArray())
            Assert.All(purpose!["sites"]!.AsArray(), s => Assert.Contains("in force since", s!["text"]!.GetValue<string>()));
        Assert.True(patient["noHorizontalScroll"]!.GetValue<bool>() && patient["noHorizontalScrollAfter"]!.GetValue<bool>() && patient["noHorizontalScrollReport"]!.GetValue<bool>(),
            "the patient view scrolls sideways on a phone");
        // Her report lists the physician's look at her record at erlangen (released, before she revoked).
        Assert.Contains(patient["accesses"]!.AsArray(), a => a!["purpose"]!.GetValue<string>() == "patient-summary" && a["outcome"]!.GetValue<string>() == "released" && a["text"]!.GetValue<string>().Contains("lena"));
        // ... and the one research query that counted her so far: the first count, at erlangen (munich holds no C50 for her).
        Assert.Equal(["erlangen"], patient["research"]!.AsArray().Select(r => r!["site"]!.GetValue<string>()));
        Assert.Equal(["erlangen Ok", "munich Ok"], patient["reportSites"]!.AsArray().Select(r => $"{r!["site"]} {r["status"]}"));
        // One click, one change: the network holds exactly the two revocations, as pseudonyms from erlangen; each site's own ledger honours them.
        Assert.Equal(["erlangen 2.16.840.1.113883.3.1937.777.24.5.3.8 deny", "erlangen care-sharing deny"], network.ConsentLog());
        Assert.False(Permitted("erlangen", "e-anna", ConsentPolicies.Research));
        Assert.False(Permitted("munich", "m-anna", ConsentPolicies.CareSharing));

        // After: the count drops by Anna (a new question: identical ones replay from history for 24 h).
        Assert.Equal(1, await ErlangenBreastCancerCountAsync("Breast cancer (C50), asked again"));
        // ... and munich's physician no longer gets anything from erlangen; munich's own data stays.
        var after = await Journey.RunAsync("physician-summary", munichPortal, "lena", new { tag = "acceptance-3-physician-after", patient = "m-anna" });
        Assert.Equal(["erlangen not_shared", "munich ok"], Sites(after));
        Assert.Equal(AnnaMunich.Facts.Select(f => $"{f.Code} {f.DateText} munich").Order(), Timeline(after).Order());
        Assert.Equal(["EDSS 3"], Trends(after));
        Assert.Contains("erlangen", after["missing"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_physician_opens_only_her_own_sites_patients_by_local_id_or_KVNR_and_a_patient_page_checks_nothing_but_her_own()
    {
        using var physician = new Browser(munichPortal);
        await physician.SignInAsync("lena");
        // By KVNR: the same person as m-anna, so erlangen's part comes too.
        var (status, body, _) = await physician.PostFormAsync("/Care", "/Care", [new("Patient", AnnaKvnr.ToLowerInvariant())]);
        Assert.Equal(System.Net.HttpStatusCode.OK, status);
        Assert.Contains("Breast cancer, upper outer quadrant", Browser.Text(body));
        // Dora is erlangen's patient only: munich's physician cannot start from her, and the page says why.
        (status, body, _) = await physician.PostFormAsync("/Care", "/Care", [new("Patient", "e-dora")]);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, status);
        Assert.Contains("You can only open patients of your own site.", Browser.Text(body));
        Assert.DoesNotContain("Breast cancer", Browser.Text(body));
        (status, body, _) = await physician.PostFormAsync("/Care", "/Care", [new("Patient", "  ")]);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, status);

        // A patient's page shows only her own consent (erlangen's portal, bound to Anna's KVNR): research permitted, as the data says.
        using var anna = new Browser(erlangenPortal);
        await anna.SignInAsync("anna");
        (status, body, _) = await anna.GetPageAsync("/Patient");
        Assert.Equal(System.Net.HttpStatusCode.OK, status);
        Assert.Contains("data-purpose=\"research\" data-permitted=\"true\"", body);
        // A purpose that does not exist is refused by the node, and nothing changes.
        (status, body, _) = await anna.PostFormAsync("/Patient", "/Patient?handler=Set", [new("purpose", "marketing"), new("permit", "false")]);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, status);
        Assert.Contains("is not one of research, care-sharing", Browser.Text(body));
        Assert.Empty(network.ConsentLog());
        Assert.True(Permitted("erlangen", "e-anna", ConsentPolicies.Research));

        // In German, from the browser's language: the purposes and the one-click button in plain German words.
        using var annaDe = new Browser(erlangenPortal, language: "de");
        await annaDe.SignInAsync("anna");
        var german = Browser.Text((await annaDe.GetPageAsync("/Patient")).Body);
        Assert.Contains("Nutzung meiner Daten für die Forschung", german);
        Assert.Contains("Weitergabe meiner Daten an meine Behandelnden an anderen Standorten", german);
        Assert.Contains("Widerrufen", german);
    }

    static List<string> Sites(JsonObject seen) => [.. seen["sites"]!.AsArray().Select(s => $"{s!["site"]} {s["status"]}")];

    /// <summary>"code date site site..." per timeline row: the date is the row's first cell up to the first space.</summary>
    static List<string> Timeline(JsonObject seen) =>
        [.. seen["timeline"]!.AsArray().Select(r => $"{r!["code"]} {r["cells"]![0]!.GetValue<string>().Split(' ')[0]} {string.Join(" ", r["sites"]!.AsArray().Select(s => s!.GetValue<string>()))}")];

    static List<string> Trends(JsonObject seen) =>
        [.. seen["trends"]!.AsArray().Where(t => t!["drawn"]!.GetValue<bool>()).Select(t => $"{t!["label"]} {t["points"]}")];

    static List<string> Purposes(JsonNode list) => [.. list.AsArray().Select(p => $"{p!["purpose"]} {(p["permitted"]!.GetValue<bool>() ? "True" : "False")}")];

    bool Permitted(string site, string resourceId, string policy)
    {
        using var session = new SiteSession(network[site].DbPath);
        return session.Consent.IsPermitted(LocalPatient.Find(session.Connection, null, resourceId), policy, Days.Today());
    }

    /// <summary>A researcher's count through the coordinator's API: erlangen's released (exact) number.</summary>
    internal async Task<long> ErlangenBreastCancerCountAsync(string display)
    {
        var ccdl = $$"""{"version": "http://to_be_decided.com/draft-1/schema#", "display": "{{display}}", "inclusionCriteria": [[{"termCodes": [{"code": "C50", "system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "display": "Breast cancer"}]}]]}""";
        var research = new ResearchClient(network.Client(network.Material("researcher", "Dr Ada")));
        using var call = research.Count(new CountRequest { CcdlJson = ccdl }, PortalTestNetwork.Deadline(120));
        var events = new List<CountEvent>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None)) events.Add(call.ResponseStream.Current);
        var erlangen = events.Where(e => e.Site is not null).Single(e => e.Site.Site == "erlangen").Site;
        Assert.True(erlangen.Status == SiteStatus.Ok, $"erlangen: {erlangen.Status} ({erlangen.Message})");
        return erlangen.Count.Value;
    }
}
