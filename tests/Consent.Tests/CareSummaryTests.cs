using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Midia.Consent.Tests.Support;
using Midia.Node.Consent;
using Midia.Node.Policy;
using Midia.Node.Store;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Grpc.Core;
using static Midia.Consent.Tests.Support.ClinicalFact;
using CareClient = Midia.Protos.Coordinator.V1.Care.CareClient;
using PatientCareClient = Midia.Protos.Node.V1.PatientCare.PatientCareClient;

namespace Midia.Consent.Tests;

/// <summary>
/// The clinician's cross-site patient summary end to end over mutual TLS: real nodes (each its
/// own SQLite file, data imported from FHIR Bundles written here) and the real coordinator. The
/// expected content is read off the test's own records, never off the nodes' answers.
/// </summary>
public sealed class CareSummaryTests : IAsyncLifetime
{
    const string Onko = "https://www.medizininformatik-initiative.de/fhir/ext/modul-onko/CodeSystem/mii-cs-onko-verlauf-gesamtbeurteilung";
    static DateOnly D(int y, int m, int d) => new(y, m, d);

    // Anna: breast cancer, one KVNR at all three sites; erlangen (her clinician's site) holds no
    // care-sharing document; munich and berlin permit. Two facts are held identically at erlangen and munich.
    static readonly ClinicalFact AnnaDiagnosis = Condition(CodeSystems.Icd10Gm, "C50.4", "Bösartige Neubildung: Oberer äußerer Quadrant der Brustdrüse", D(2019, 3, 10));
    static readonly ClinicalFact AnnaFirstCa153 = Lab(CodeSystems.Loinc, "6875-9", "CA 15-3", D(2019, 3, 10), 31, "U/mL");
    static readonly ClinicalRecord AnnaErlangen = new("anna-e", "A123456789", "Meier", "Anna", D(1960, 3, 1), "female", null,
    [
        Mri("MRT Mamma beidseits", D(2019, 3, 5)), AnnaDiagnosis, AnnaFirstCa153,
        Coded("399504009", "cT", D(2019, 3, 12), CodeSystems.Snomed, "369900003", "staging"),
        Procedure("5-870.a2", "Partielle Resektion der Mamma", D(2019, 4, 2)),
        Medication("L02BA01", "Tamoxifen", D(2019, 5, 1), D(2024, 5, 1)),
        Lab(CodeSystems.Loinc, "6875-9", "CA 15-3", D(2020, 3, 10), 25, "U/mL"),
        Lab(CodeSystems.Loinc, "6875-9", "CA 15-3", D(2021, 3, 10), 22, "U/mL"),
    ]);
    static readonly ClinicalRecord AnnaMunich = new("anna-m", " a123456789 ".Trim().ToUpperInvariant(), "Meier", "Anna", D(1960, 3, 1), "female", true,
    [
        AnnaDiagnosis, AnnaFirstCa153,
        Lab(CodeSystems.Loinc, "6875-9", "CA 15-3", D(2022, 3, 10), 40, "U/mL"),
        Lab(CodeSystems.Loinc, "6875-9", "CA 15-3", D(2023, 3, 10), 55.5, "U/mL"),
        Coded("396432002", "Follow-up assessment", D(2023, 3, 20), Onko, "P", "staging"),
        Medication("L02BG04", "Letrozol", D(2024, 5, 2), null),
    ]);
    static readonly ClinicalRecord AnnaBerlin = new("anna-b", "A123456789", "Meier", "Anna", D(1960, 3, 1), "female", true,
    [
        Procedure("8-522", "Hochvoltstrahlentherapie", D(2019, 6, 1)),
        Lab(CodeSystems.Loinc, "2039-6", "CEA", D(2023, 6, 1), 3.1, "ng/mL"),
    ]);
    // Another patient at munich: nothing of hers may appear in Anna's summary.
    static readonly ClinicalRecord DoraMunich = new("dora-m", "D000000004", "Schulz", "Dora", D(1958, 1, 1), "female", true,
    [
        AnnaDiagnosis, Lab(CodeSystems.Loinc, "6875-9", "CA 15-3", D(2022, 3, 10), 80, "U/mL"),
    ]);

    // Ben: multiple sclerosis, no KVNR anywhere: linked by name, birth date and sex, spelled differently.
    static readonly ClinicalRecord BenErlangen = new("ben-e", null, "Müller", "Ben", D(1971, 7, 9), "male", null,
    [
        Mri("MRT Schädel", D(2015, 1, 20)), Condition(CodeSystems.Icd10Gm, "G35.1", "Multiple Sklerose mit schubförmigem Verlauf", D(2015, 2, 1)),
        Lab(CodeSystems.MidiaMs, "edss", "EDSS", D(2015, 2, 1), 2.0, "{score}"),
        Lab(CodeSystems.MidiaMs, "edss", "EDSS", D(2016, 2, 1), 2.5, "{score}"),
        Medication("L04AA36", "Ocrelizumab", D(2018, 1, 1), null),
    ]);
    static readonly ClinicalRecord BenMunich = new("ben-m", null, "MULLER", "ben", D(1971, 7, 9), "male", true,
    [
        Lab(CodeSystems.MidiaMs, "edss", "EDSS", D(2019, 6, 1), 3.0, "{score}"),
        Lab(CodeSystems.MidiaMs, "edss", "EDSS", D(2020, 6, 1), 3.5, "{score}"),
        Lab(CodeSystems.MidiaMs, "mri-t2-lesions", "T2 lesions", D(2020, 5, 5), 14, "{count}"),
        Mri("MRT Schädel mit KM", D(2020, 5, 5)),
    ]);
    static readonly ClinicalRecord BenBerlin = new("ben-b", null, "Müller", "Ben", D(1971, 7, 9), "male", false,
    [
        Lab(CodeSystems.MidiaMs, "edss", "EDSS", D(2021, 6, 1), 4.0, "{score}"),
    ]);

    static readonly Dictionary<string, ClinicalRecord[]> Sites = new()
    {
        ["erlangen"] = [AnnaErlangen, BenErlangen],
        ["munich"] = [AnnaMunich, DoraMunich, BenMunich],
        ["berlin"] = [AnnaBerlin, BenBerlin],
    };

    readonly ConsentNetwork network = new("erlangen", "munich", "berlin");

    public async Task InitializeAsync()
    {
        foreach (var (site, records) in Sites)
        {
            network[site].ImportFhir("bundle.json", ClinicalRecord.Bundle(records));
            network[site].Approve(QueryTypes.PatientSummary);
        }
        await network.StartAllAsync();
    }

    public async Task DisposeAsync() => await network.DisposeAsync();

    [Fact]
    public async Task The_summary_holds_every_fact_of_the_patient_from_every_consenting_site_and_folds_exact_duplicates()
    {
        var summary = await SummaryAsync("erlangen", kvnr: "a123456789 ");

        Assert.Equal(["erlangen", "munich", "berlin"], summary.Sites.Select(s => s.Site));
        Assert.All(summary.Sites, s => Assert.Equal(SiteStatus.Ok, s.Status));
        Assert.Equal(Expected(("erlangen", AnnaErlangen), ("munich", AnnaMunich), ("berlin", AnnaBerlin)), Flatten(summary));
        Assert.Equal([AnnaErlangen.Facts.Count, AnnaMunich.Facts.Count, AnnaBerlin.Facts.Count], summary.Sites.Select(s => s.Entries));
        // The two facts erlangen and munich hold identically are one entry each, naming both.
        var diagnosis = Assert.Single(summary.Entries, e => e.Entry.Code == "C50.4");
        Assert.Equal(["erlangen", "munich"], diagnosis.Sites);
        Assert.Equal(["erlangen", "munich"], Assert.Single(summary.Entries, e => e.Entry.Code == "6875-9" && e.Entry.Date == "2019-03-10").Sites);
        Assert.Equal(AnnaErlangen.Facts.Count + AnnaMunich.Facts.Count + AnnaBerlin.Facts.Count - 2, summary.Entries.Count);
        // Whole series, oldest first: every CA 15-3 of both sites.
        Assert.Equal([31, 25, 22, 40, 55.5], summary.Entries.Where(e => e.Entry.Code == "6875-9").Select(e => e.Entry.Value));
        AssertOldestFirst(summary);
        Assert.Equal(["staging", "staging"], summary.Entries.Where(e => e.Entry.System == CodeSystems.Snomed).Select(e => e.Entry.Section));
        Assert.Equal("P", Assert.Single(summary.Entries, e => e.Entry.Code == "396432002").Entry.ValueCode);
    }

    [Fact]
    public async Task A_site_whose_patient_denied_care_sharing_releases_nothing_while_a_patient_without_kvnr_is_linked_by_demographics()
    {
        var summary = await SummaryAsync("erlangen", localId: "Patient/ben-e");

        var berlin = summary.Sites.Single(s => s.Site == "berlin");
        Assert.Equal(SiteStatus.NotShared, berlin.Status);
        Assert.Equal("the patient has not permitted care-sharing here, or this site has no record", berlin.Message);
        Assert.Equal(0, berlin.Entries);
        Assert.Equal(Expected(("erlangen", BenErlangen), ("munich", BenMunich)), Flatten(summary));
        Assert.DoesNotContain(summary.Entries, e => e.Sites.Contains("berlin"));
        Assert.Equal([2.0, 2.5, 3.0, 3.5], summary.Entries.Where(e => e.Entry.Code == "edss").Select(e => e.Entry.Value));
    }

    [Fact]
    public async Task The_clinicians_own_site_shows_its_own_data_without_care_sharing_consent_but_another_site_does_not()
    {
        // Erlangen holds no care-sharing document for Anna: her erlangen clinician still sees erlangen's part.
        var fromErlangen = await SummaryAsync("erlangen", localId: "anna-e");
        Assert.Equal(SiteStatus.Ok, fromErlangen.Sites.Single(s => s.Site == "erlangen").Status);

        // A munich clinician starting from munich's record gets nothing from erlangen.
        var fromMunich = await SummaryAsync("munich", localId: "anna-m");
        var erlangen = fromMunich.Sites.Single(s => s.Site == "erlangen");
        Assert.Equal(SiteStatus.NotShared, erlangen.Status);
        Assert.Equal(Expected(("munich", AnnaMunich), ("berlin", AnnaBerlin)), Flatten(fromMunich));
    }

    [Fact]
    public async Task A_revocation_at_the_site_holding_the_data_takes_effect_on_the_very_next_summary()
    {
        Assert.Equal(SiteStatus.Ok, (await SummaryAsync("erlangen", localId: "anna-e")).Sites.Single(s => s.Site == "berlin").Status);

        network["berlin"].ConsentSet(AnnaBerlin.ResourceId, ConsentPolicies.CareSharing, permit: false);
        var after = await SummaryAsync("erlangen", localId: "anna-e");

        Assert.Equal(SiteStatus.NotShared, after.Sites.Single(s => s.Site == "berlin").Status);
        Assert.DoesNotContain(after.Entries, e => e.Sites.Contains("berlin"));
        Assert.Equal(Expected(("erlangen", AnnaErlangen)), Flatten(after).Where(l => l.StartsWith("erlangen ", StringComparison.Ordinal)));
        // Consent belongs to the person, not the site: the change reaches munich through the network too.
        await ConsentNetwork.Eventually(() => !network["munich"].Permitted(AnnaMunich.ResourceId, ConsentPolicies.CareSharing), "munich applies berlin's revocation");
        Assert.Equal(Expected(("erlangen", AnnaErlangen)), Flatten(await SummaryAsync("erlangen", localId: "anna-e")));
    }

    [Fact]
    public async Task A_revocation_made_at_the_patients_home_site_reaches_every_other_site_through_the_network()
    {
        network["erlangen"].ConsentSet(AnnaErlangen.ResourceId, ConsentPolicies.CareSharing, permit: false);
        await ConsentNetwork.Eventually(() => !network["munich"].Permitted(AnnaMunich.ResourceId, ConsentPolicies.CareSharing)
            && !network["berlin"].Permitted(AnnaBerlin.ResourceId, ConsentPolicies.CareSharing), "munich and berlin apply erlangen's revocation");

        var summary = await SummaryAsync("erlangen", localId: "anna-e");

        Assert.Equal([SiteStatus.Ok, SiteStatus.NotShared, SiteStatus.NotShared], summary.Sites.Select(s => s.Status));
        Assert.Equal(Expected(("erlangen", AnnaErlangen)), Flatten(summary));
        // Ben (another patient of the same sites) is untouched.
        Assert.Equal(SiteStatus.Ok, (await SummaryAsync("erlangen", localId: "ben-e")).Sites.Single(s => s.Site == "munich").Status);
    }

    [Fact]
    public async Task A_researcher_certificate_is_refused_at_the_coordinator_and_at_the_node()
    {
        var ticket = (await ResolveAsync("erlangen", new ResolvePatientRequest { LocalId = "anna-e" })).Ticket;

        var atNode = await Assert.ThrowsAsync<RpcException>(() => Resolve(network.Client("researcher", "Dr Rita Researcher", "erlangen", node: "erlangen"), new ResolvePatientRequest { LocalId = "anna-e" }));
        var atCoordinator = await Assert.ThrowsAsync<RpcException>(() => Summary(network.Client("researcher", "Dr Rita Researcher", "erlangen"), new SummaryRequest { Site = "erlangen", Ticket = ticket }));

        Assert.Equal(StatusCode.PermissionDenied, atNode.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, atCoordinator.StatusCode);
        Assert.Contains("clinician", atCoordinator.Status.Detail);
        // Nobody was asked for the patient's record.
        Assert.All(Sites.Keys, site => Assert.Empty(network[site].Rows("SELECT id FROM record_access")));
    }

    [Fact]
    public async Task A_clinician_cannot_resolve_at_another_sites_node_nor_use_another_clinicians_ticket()
    {
        var denied = await Assert.ThrowsAsync<RpcException>(() => Resolve(network.Client("clinician", "Dr Max Munich", "munich", node: "erlangen"), new ResolvePatientRequest { Kvnr = "A123456789" }));
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains("'munich'", denied.Status.Detail);
        Assert.Contains("'erlangen'", denied.Status.Detail);

        var ticket = (await ResolveAsync("erlangen", new ResolvePatientRequest { LocalId = "anna-e" })).Ticket;
        // Another site's clinician may not present it as their own site's, nor as erlangen's.
        var wrongSite = await Assert.ThrowsAsync<RpcException>(() => Summary(network.Client("clinician", "Dr Max Munich", "munich"), new SummaryRequest { Site = "erlangen", Ticket = ticket }));
        Assert.Equal(StatusCode.PermissionDenied, wrongSite.StatusCode);
        var colleague = await Assert.ThrowsAsync<RpcException>(() => Summary(network.Client("clinician", "Dr Other Erlangen", "erlangen"), new SummaryRequest { Site = "erlangen", Ticket = ticket }));
        Assert.Equal(StatusCode.PermissionDenied, colleague.StatusCode);
        Assert.Contains("another clinician", colleague.Status.Detail);
        // An altered ticket is not accepted either.
        var altered = await Assert.ThrowsAsync<RpcException>(() => Summary(network.Client("clinician", Clinician, "erlangen"), new SummaryRequest { Site = "erlangen", Ticket = (ticket[0] == 'A' ? "B" : "A") + ticket[1..] }));
        Assert.Equal(StatusCode.InvalidArgument, altered.StatusCode);
    }

    [Fact]
    public async Task An_unknown_patient_is_not_found_at_the_clinicians_site_without_echoing_the_kvnr()
    {
        var missing = await Assert.ThrowsAsync<RpcException>(() => ResolveAsync("erlangen", new ResolvePatientRequest { Kvnr = "Z999999999" }));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.DoesNotContain("Z999999999", missing.Status.Detail);
        // Dora is munich's patient only: erlangen's clinician cannot start from her.
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(() => ResolveAsync("erlangen", new ResolvePatientRequest { Kvnr = "D000000004" }))).StatusCode);
    }

    [Fact]
    public async Task A_site_that_has_not_approved_patient_summaries_is_named_not_approved_and_releases_nothing()
    {
        network["munich"].Approve(QueryTypes.PatientSummary, approved: false);

        var summary = await SummaryAsync("erlangen", localId: "anna-e");

        var munich = summary.Sites.Single(s => s.Site == "munich");
        Assert.Equal(SiteStatus.NotApproved, munich.Status);
        Assert.Contains("not approved", munich.Message);
        Assert.Equal(Expected(("erlangen", AnnaErlangen), ("berlin", AnnaBerlin)), Flatten(summary));

        // The clinician's own site unapproved: resolving is refused with the site status.
        network["erlangen"].Approve(QueryTypes.PatientSummary, approved: false);
        var refused = await Assert.ThrowsAsync<RpcException>(() => ResolveAsync("erlangen", new ResolvePatientRequest { LocalId = "anna-e" }));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal("not_approved", refused.Trailers.GetValue("midia-site-status"));
    }

    [Fact]
    public async Task A_dead_site_is_named_unavailable_while_the_others_answer()
    {
        var ticket = (await ResolveAsync("erlangen", new ResolvePatientRequest { LocalId = "anna-e" })).Ticket;
        await network["berlin"].StopAsync();

        var summary = await Summary(network.Client("clinician", Clinician, "erlangen"), new SummaryRequest { Site = "erlangen", Ticket = ticket });

        var berlin = summary.Sites.Single(s => s.Site == "berlin");
        Assert.Contains(berlin.Status, new[] { SiteStatus.Unavailable, SiteStatus.Timeout });
        Assert.Contains("missing from the summary", berlin.Message);
        Assert.Equal(Expected(("erlangen", AnnaErlangen), ("munich", AnnaMunich)), Flatten(summary));
    }

    [Fact]
    public async Task Without_the_clinicians_own_node_no_site_is_asked_and_the_clinician_is_told_why()
    {
        var ticket = (await ResolveAsync("erlangen", new ResolvePatientRequest { LocalId = "anna-e" })).Ticket;
        await network["erlangen"].StopAsync();

        var refused = await Assert.ThrowsAsync<RpcException>(() => Summary(network.Client("clinician", Clinician, "erlangen"), new SummaryRequest { Site = "erlangen", Ticket = ticket }));

        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains("your site erlangen could not open the ticket", refused.Status.Detail);
        Assert.Empty(network["munich"].Rows("SELECT id FROM record_access"));
    }

    [Fact]
    public async Task Every_site_asked_about_a_patient_it_knows_records_the_access_and_the_audit_names_no_patient()
    {
        await SummaryAsync("erlangen", localId: "ben-e");

        const string Access = "SELECT p.resource_id, a.user_name, a.user_role, a.user_site, a.purpose, a.outcome, a.detail FROM record_access a JOIN patient p USING (pid) ORDER BY a.id";
        Assert.Equal([$"ben-e|{Clinician}|clinician|erlangen|patient-summary|released|own site: problems 1, medications 1, results 2, imaging 1"], network["erlangen"].Rows(Access));
        Assert.Equal([$"ben-m|{Clinician}|clinician|erlangen|patient-summary|released|results 3, imaging 1"], network["munich"].Rows(Access));
        Assert.Equal([$"ben-b|{Clinician}|clinician|erlangen|patient-summary|refused|no care-sharing consent"], network["berlin"].Rows(Access));
        foreach (var site in Sites.Keys)
        {
            var audit = string.Join("\n", network[site].Rows("SELECT * FROM audit"));
            Assert.Contains("patient-summary", audit);
            foreach (var text in new[] { "ben-", "Müller", "MULLER", "1971" }) Assert.DoesNotContain(text, audit);
        }
        // The coordinator keeps nothing of it: neither the pseudonym nor any entry is in its files.
        var linkage = Midia.Node.Linkage.LinkagePseudonym.Of(network.Key, null, "Müller", "Ben", Days.From(D(1971, 7, 9)), "male")!;
        Assert.Equal(linkage, network["munich"].Rows("SELECT linkage FROM patient WHERE resource_id = 'ben-m'").Single());
        foreach (var file in Directory.GetFiles(network.Folder, "coordinator.db*"))
        {
            var bytes = System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(file));
            Assert.DoesNotContain(linkage, bytes);
            Assert.DoesNotContain("G35.1", bytes);
        }
    }

    [Fact]
    public async Task Midia_summary_json_from_the_real_executables_holds_every_fact_and_shows_a_revocation_made_with_midia_node_consent_set()
    {
        var (cert, key, ca, _) = network.WritePem("clinician", Clinician, "erlangen");
        string[] connection = ["--coordinator", $"https://127.0.0.1:{network.CoordinatorPort}", "--cert", cert, "--key", key, "--ca", ca];

        var (exit, stdout, stderr) = await RunAsync("midia.dll", ["summary", "--site", "erlangen", "--kvnr", "A123456789", "--json", .. connection]);

        Assert.True(exit == 0, stderr);
        using (var document = JsonDocument.Parse(stdout))
        {
            var root = document.RootElement;
            Assert.Equal(["erlangen ok", "munich ok", "berlin ok"], root.GetProperty("sites").EnumerateArray().Select(s => $"{s.GetProperty("site").GetString()} {s.GetProperty("status").GetString()}"));
            Assert.Equal(Expected(("erlangen", AnnaErlangen), ("munich", AnnaMunich), ("berlin", AnnaBerlin)).Select(WithoutSection), JsonLines(root));
        }

        Assert.Equal(0, (await RunAsync("midia-node.dll", ["consent", "set", "--db", network["berlin"].DbPath, "--patient", "anna-b", "--policy", "care-sharing", "--deny"])).Exit);
        (exit, stdout, stderr) = await RunAsync("midia.dll", ["summary", "--site", "erlangen", "--patient", "anna-e", "--json", .. connection]);

        Assert.True(exit == 0, stderr);
        using (var document = JsonDocument.Parse(stdout))
        {
            var berlin = document.RootElement.GetProperty("sites").EnumerateArray().Single(s => s.GetProperty("site").GetString() == "berlin");
            Assert.Equal("not_shared", berlin.GetProperty("status").GetString());
            Assert.Equal("the patient has not permitted care-sharing here, or this site has no record", berlin.GetProperty("message").GetString());
            Assert.DoesNotContain(JsonLines(document.RootElement), l => l.StartsWith("berlin ", StringComparison.Ordinal));
        }
        Assert.DoesNotContain("A123456789", stdout);
    }

    /// <summary>The JSON entries as the test's lines: one per source site of each entry.</summary>
    static List<string> JsonLines(JsonElement root)
    {
        string Text(JsonElement e, string name) => e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : "";
        return [.. root.GetProperty("entries").EnumerateArray().SelectMany(e => e.GetProperty("sites").EnumerateArray().Select(site => WithoutSection(Line(site.GetString()!,
            Text(e, "kind"), "", Text(e, "system"), Text(e, "code"), Text(e, "display"), Text(e, "date"), Text(e, "endDate"),
            e.TryGetProperty("value", out var v) ? v.GetDouble() : null, Text(e, "unit"), Text(e, "valueSystem"), Text(e, "valueCode")))))
            .Order(StringComparer.Ordinal)];
    }

    static string WithoutSection(string line)
    {
        var parts = line.Split(" | ");
        parts[2] = "";
        return string.Join(" | ", parts);
    }

    static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string dll, string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }

    const string Clinician = "Dr Clara Clinician";

    static CallOptions Options() => new(deadline: DateTime.UtcNow.AddSeconds(30));

    static Task<ResolvePatientReply> Resolve(CallInvoker node, ResolvePatientRequest request) => new PatientCareClient(node).ResolvePatientAsync(request, Options()).ResponseAsync;

    static Task<SummaryReply> Summary(CallInvoker coordinator, SummaryRequest request) => new CareClient(coordinator).SummaryAsync(request, Options()).ResponseAsync;

    Task<ResolvePatientReply> ResolveAsync(string site, ResolvePatientRequest request, string clinician = Clinician) =>
        Resolve(network.Client("clinician", clinician, site, node: site), request);

    /// <summary>What the clinician's tool does: resolve at the own site's node, then ask the coordinator.</summary>
    async Task<SummaryReply> SummaryAsync(string site, string? kvnr = null, string? localId = null)
    {
        var request = kvnr is not null ? new ResolvePatientRequest { Kvnr = kvnr } : new ResolvePatientRequest { LocalId = localId };
        var resolved = await ResolveAsync(site, request);
        return await Summary(network.Client("clinician", Clinician, site), new SummaryRequest { Site = site, Ticket = resolved.Ticket });
    }

    /// <summary>One line per (site, entry): a folded entry counts once for each site it names.</summary>
    static List<string> Flatten(SummaryReply summary) =>
        [.. summary.Entries.SelectMany(t => t.Sites.Select(site => Line(site, t.Entry.Kind, t.Entry.Section, t.Entry.System, t.Entry.Code, t.Entry.Display,
            t.Entry.Date, t.Entry.EndDate, t.Entry.HasValue ? t.Entry.Value : null, t.Entry.Unit, t.Entry.ValueSystem, t.Entry.ValueCode))).Order(StringComparer.Ordinal)];

    static List<string> Expected(params (string Site, ClinicalRecord Record)[] parts) =>
        [.. parts.SelectMany(p => p.Record.Facts.Select(f => Line(p.Site, f.Kind, f.Section, f.System, f.Code, f.Display, f.DateText, f.EndText, f.Value, f.Unit, f.ValueSystem, f.ValueCode)))
            .Order(StringComparer.Ordinal)];

    static string Line(string site, string kind, string section, string system, string code, string display, string date, string end, double? value, string unit, string valueSystem, string valueCode) =>
        string.Join(" | ", site, kind, section, system, code, display, date, end, value?.ToString(CultureInfo.InvariantCulture) ?? "-", unit, valueSystem, valueCode);

    static void AssertOldestFirst(SummaryReply summary)
    {
        var dates = summary.Entries.Select(e => e.Entry.Date).ToList();
        Assert.Equal(dates.Order(StringComparer.Ordinal), dates);
    }
}
