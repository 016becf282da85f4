using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Midia.Consent.Tests.Support;
using Midia.Node.Policy;
using Midia.Node.Store;
using static Midia.Consent.Tests.Support.ClinicalFact;

namespace Midia.Consent.Tests;

/// <summary>
/// `midia summary` as a clinician runs it: the real `midia` executable against real nodes and the
/// real coordinator over mutual TLS. Expected content is read off the test's own records.
/// </summary>
public sealed class SummaryCliTests : IAsyncLifetime
{
    const string Kvnr = "C123456780";
    static DateOnly D(int y, int m, int d) => new(y, m, d);

    // Carl: prostate cancer. erlangen is his clinician's site (no care-sharing document: its own data
    // still shows); munich permits care-sharing; practice denies it. One fact is held identically at erlangen and munich.
    static readonly ClinicalFact Diagnosis = Condition(CodeSystems.Icd10Gm, "C61", "Bösartige Neubildung der Prostata", D(2020, 1, 15));
    static readonly ClinicalRecord CarlErlangen = new("carl-e", Kvnr, "Becker", "Carl", D(1955, 4, 2), "male", null,
    [
        Diagnosis,
        Lab(CodeSystems.Loinc, "2857-1", "PSA", D(2020, 1, 10), 8.2, "ng/mL"),
        Procedure("5-604", "Radikale Prostatovesikulektomie", D(2020, 2, 10)),
        Lab(CodeSystems.Loinc, "2857-1", "PSA", D(2020, 4, 10), 0.4, "ng/mL"),
        Coded("399504009", "cT", D(2020, 1, 20), CodeSystems.Snomed, "369833007", "staging"),
    ]);
    static readonly ClinicalRecord CarlMunich = new("carl-m", Kvnr, "Becker", "Carl", D(1955, 4, 2), "male", true,
    [
        Diagnosis,
        Medication("L02AE02", "Leuprorelin", D(2020, 3, 1), null),
        Lab(CodeSystems.Loinc, "2857-1", "PSA", D(2020, 7, 10), 0.1, "ng/mL"),
        Lab(CodeSystems.Loinc, "2857-1", "PSA", D(2021, 6, 10), 2.3, "ng/mL"),
        Mri("MRT Becken", D(2021, 7, 1)),
    ]);
    static readonly ClinicalRecord CarlPractice = new("carl-p", Kvnr, "Becker", "Carl", D(1955, 4, 2), "male", false,
    [
        Lab(CodeSystems.Loinc, "2857-1", "PSA", D(2022, 1, 10), 4.0, "ng/mL"),
    ]);

    readonly ConsentNetwork network = new("erlangen", "munich", "practice");

    public async Task InitializeAsync()
    {
        network["erlangen"].ImportFhir("bundle.json", ClinicalRecord.Bundle(CarlErlangen));
        network["munich"].ImportFhir("bundle.json", ClinicalRecord.Bundle(CarlMunich));
        network["practice"].ImportFhir("bundle.json", ClinicalRecord.Bundle(CarlPractice));
        foreach (var site in new[] { "erlangen", "munich", "practice" }) network[site].Approve(QueryTypes.PatientSummary);
        await network.StartAllAsync();
    }

    public async Task DisposeAsync() => await network.DisposeAsync();

    [Fact]
    public async Task Summary_json_holds_every_fact_of_the_consenting_sites_folds_the_duplicate_and_names_the_site_that_did_not_share()
    {
        var (exit, stdout, stderr) = await MidiaAsync("clinician", "erlangen", "summary", "--site", "erlangen", "--kvnr", Kvnr, "--json");

        Assert.True(exit == 0, stderr);
        using var document = JsonDocument.Parse(stdout);
        var root = document.RootElement;
        var sites = root.GetProperty("sites").EnumerateArray().ToList();
        Assert.Equal(["erlangen", "munich", "practice"], sites.Select(s => s.GetProperty("site").GetString()));
        Assert.Equal(["ok", "ok", "not_shared"], sites.Select(s => s.GetProperty("status").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(sites[2].GetProperty("message").GetString()));

        var expected = CarlErlangen.Facts.Select(f => (Fact: f, Site: "erlangen")).Concat(CarlMunich.Facts.Select(f => (Fact: f, Site: "munich")))
            .GroupBy(x => Line(x.Fact.Kind, x.Fact.System, x.Fact.Code, x.Fact.DateText, x.Fact.Value, x.Fact.Unit, x.Fact.ValueCode))
            .Select(g => $"{g.Key} from {string.Join("+", g.Select(x => x.Site))}").Order(StringComparer.Ordinal).ToList();
        var actual = root.GetProperty("entries").EnumerateArray().Select(e =>
            $"{Line(e.GetProperty("kind").GetString()!, e.GetProperty("system").GetString()!, e.GetProperty("code").GetString()!, e.GetProperty("date").GetString()!,
                e.TryGetProperty("value", out var v) ? v.GetDouble() : null, e.TryGetProperty("unit", out var u) ? u.GetString()! : "", e.TryGetProperty("valueCode", out var c) ? c.GetString()! : "")}"
            + $" from {string.Join("+", e.GetProperty("sites").EnumerateArray().Select(s => s.GetString()))}").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, actual);
        Assert.Contains(actual, a => a.StartsWith("condition", StringComparison.Ordinal) && a.EndsWith("from erlangen+munich", StringComparison.Ordinal));
        Assert.DoesNotContain(Kvnr, stdout + stderr);
    }

    [Fact]
    public async Task The_terminal_view_names_a_dead_site_and_one_that_did_not_share_and_draws_the_psa_trend()
    {
        await network["munich"].StopAsync();

        var (exit, stdout, stderr) = await MidiaAsync("clinician", "erlangen", "summary", "--site", "erlangen", "--patient", "carl-e");

        Assert.True(exit == 0, stderr);
        Assert.DoesNotContain("\u001b[", stdout);
        var lines = stdout.Split('\n');
        Assert.Contains(lines, l => l.Contains("│ munich ") && (l.Contains("unavailable") || l.Contains("timeout")));
        Assert.Contains(lines, l => l.Contains("│ practice ") && l.Contains("not_shared"));
        // erlangen's own two PSA values, oldest first: 8.2 then 0.4.
        var trend = Assert.Single(lines, l => l.TrimStart().StartsWith("PSA (ng/mL)", StringComparison.Ordinal));
        Assert.Contains(" █▁ ", trend);
        Assert.Contains(lines, l => l.Contains("Radikale Prostatovesikulektomie") && l.Contains("OPS 5-604"));
        Assert.DoesNotContain(lines, l => l.Contains("Leuprorelin")); // munich's data is missing, and the view says why above
    }

    [Fact]
    public async Task Summary_fhir_is_one_ips_document_with_a_resource_per_entry()
    {
        var (exit, stdout, stderr) = await MidiaAsync("clinician", "erlangen", "summary", "--site", "erlangen", "--kvnr", Kvnr, "--fhir");

        Assert.True(exit == 0, stderr);
        using var document = JsonDocument.Parse(stdout);
        var bundle = document.RootElement;
        Assert.Equal("document", bundle.GetProperty("type").GetString());
        var resources = bundle.GetProperty("entry").EnumerateArray().Select(e => e.GetProperty("resource")).ToList();
        Assert.Equal("Composition", resources[0].GetProperty("resourceType").GetString());
        Assert.Equal("60591-5", resources[0].GetProperty("type").GetProperty("coding")[0].GetProperty("code").GetString());
        var types = resources.Skip(1).Select(r => r.GetProperty("resourceType").GetString()!).Where(t => t is not ("Patient" or "Organization")).Order().ToList();
        // erlangen's and munich's facts, the shared diagnosis once.
        var kinds = CarlErlangen.Facts.Concat(CarlMunich.Facts).Distinct().Select(f => f.Kind switch
        {
            "condition" => "Condition", "medication" => "MedicationStatement", "procedure" => "Procedure", "imaging" => "ImagingStudy", _ => "Observation",
        }).Order().ToList();
        Assert.Equal(kinds, types);
        Assert.DoesNotContain(Kvnr, stdout);
    }

    [Fact]
    public async Task An_unknown_patient_is_one_error_line_that_does_not_echo_the_kvnr()
    {
        var (exit, stdout, stderr) = await MidiaAsync("clinician", "erlangen", "summary", "--site", "erlangen", "--kvnr", "Z999999999", "--json");

        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        Assert.Equal("error: site erlangen has no patient with that KVNR", stderr.Trim());
    }

    [Fact]
    public async Task A_researcher_certificate_is_refused_at_the_clinicians_node_with_the_role_that_is_needed()
    {
        var (exit, stdout, stderr) = await MidiaAsync("researcher", null, "summary", "--site", "erlangen", "--patient", "carl-e");

        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: the node of site erlangen at https://127.0.0.1:", line);
        Assert.Contains("only a clinician whose certificate names site erlangen may look up its patients", line);
        Assert.Empty(network["erlangen"].Rows("SELECT id FROM record_access"));
    }

    [Fact]
    public async Task A_site_that_has_not_approved_patient_summaries_is_named_with_what_its_admin_can_do()
    {
        network["erlangen"].Approve(QueryTypes.PatientSummary, approved: false);

        var (exit, _, stderr) = await MidiaAsync("clinician", "erlangen", "summary", "--site", "erlangen", "--patient", "carl-e");

        Assert.Equal(1, exit);
        Assert.Equal("error: site erlangen has not approved patient-summary: its site admin can approve it with `midia-node admin approve --db FILE patient-summary`", stderr.Trim());
    }

    static string Line(string kind, string system, string code, string date, double? value, string unit, string valueCode) =>
        $"{kind} {system}|{code} {date} {value?.ToString(CultureInfo.InvariantCulture)} {unit} {valueCode}";

    async Task<(int Exit, string Stdout, string Stderr)> MidiaAsync(string role, string? site, params string[] args)
    {
        var (cert, key, ca, _) = network.WritePem(role, $"{role}-{site ?? "none"}", site);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "midia.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["MIDIA_COORDINATOR"] = $"https://127.0.0.1:{network.CoordinatorPort}";
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
