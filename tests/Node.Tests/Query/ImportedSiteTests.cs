using Midia.Node.Import;
using Midia.Node.Query;
using Midia.Node.Store;
using Midia.Node.Tests.Synth;
using Xunit;
using static Midia.Node.Tests.Query.Ccdl;

namespace Midia.Node.Tests.Query;

/// <summary>
/// The engine against the brute force on data as the importer writes it: a synthetic FHIR export
/// (`midia dev synth`) imported with FhirImporter, read back into plain lists for the reference.
/// </summary>
public sealed class ImportedSiteTests : IDisposable
{
    readonly string export = Path.Combine(Path.GetTempPath(), "midia-query-synth-" + Guid.NewGuid().ToString("N"));
    readonly SiteFile site = new();

    public void Dispose()
    {
        site.Dispose();
        if (Directory.Exists(export)) Directory.Delete(export, recursive: true);
    }

    [Fact]
    public void EngineFindsTheBruteForcePatientsOnAnImportedSyntheticExport()
    {
        // The files in reverse order: MedicationStatement.ndjson comes before the Medication.ndjson it refers to.
        SynthExport.Write(export, seed: 7, patients: 300, sites: ["erlangen"]);
        using (var importer = new FhirImporter(site.Connection))
            foreach (var report in importer.ImportFiles([.. FhirImporter.CollectFiles([export]).Reverse()]))
                Assert.True(report.Applied, $"{report.File}: {string.Join("; ", report.Problems)}");

        var (patients, facts, attributes, links, provisions) = Load();
        Assert.True(patients.Count >= 300 && facts.Count > 1000 && attributes.Count > 100, $"{patients.Count} patients, {facts.Count} facts, {attributes.Count} attributes");
        Assert.Contains(facts, f => f.Kind == 3 && f.System == RandomSite.Atc); // drugs came through the Medication references
        var reference = new ReferenceEvaluator(patients, facts, attributes, links, provisions);
        var today = new DateOnly(2026, 1, 15);

        var queries = new List<string>
        {
            Only(Code(IcdOld, "C50")),
            Cohort($"[[{Sex("F")}],[{Code(Icd, "C50")}],[{Code(Loinc, "48676-1")}]]"),
            Cohort($"[[{Code(Icd, "G35")}],[{Code(Atc, "L04AA36")},{Code(Atc, "L04AG03")}]]"),
            Cohort($"[[{Code(Icd, "C61")}],[{Code(Loinc, "2857-1", Quantity("gt", 4, "ng/mL"))}]]", $"[[{Age("lt", 60)}]]"),
            Only(Code(Icd, "C50", ""","attributeFilters":[{"attributeCode":{"code":"clinicalStatus"},"type":"concept","selectedConcepts":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]}]""")),
        };
        var random = new Random(2718);
        for (int i = 0; i < 300; i++) queries.Add(RandomSite.Query(random, consent: true));
        for (int i = 0; i < 100; i++) queries.Add(RandomSite.GroupedQuery(random));

        int discriminating = 0, refused = 0;
        foreach (var json in queries)
        {
            var expected = reference.Evaluate(json, today);
            HashSet<long> actual;
            try
            {
                actual = site.Evaluator.Evaluate(CohortQuery.Parse(json), Days.From(today)).Members().ToHashSet();
            }
            catch (CcdlException e) when (e.Message.Contains("carries no attribute") || e.Message.Contains("carries no reference"))
            {
                // Refused, not answered: right only if the data really lacks the attribute or reference.
                Assert.DoesNotContain(attributes, a => e.Message.Contains($"'{a.Name}'"));
                Assert.DoesNotContain(links, l => e.Message.Contains($"'{l.Name}'"));
                refused++;
                continue;
            }
            Assert.True(expected.SetEquals(actual), $"brute force {expected.Count}, engine {actual.Count}\n{json}");
            if (expected.Count > 0 && expected.Count < patients.Count) discriminating++;
        }
        Assert.True(discriminating > 80, $"only {discriminating} queries select a proper non-empty subset");
        Assert.True(refused > 0, "random queries filter on an attribute the importer never writes (size); they must be refused");
    }

    (List<RefPatient>, List<RefFact>, List<RefAttribute>, List<RefLink>, List<RefProvision>) Load()
    {
        var patients = new List<RefPatient>();
        var facts = new List<RefFact>();
        var attributes = new List<RefAttribute>();
        var links = new List<RefLink>();
        var provisions = new List<RefProvision>();
        using var command = site.Connection.CreateCommand();
        command.CommandText = "SELECT pid, sex, birth_date FROM patient";
        using (var reader = command.ExecuteReader())
            while (reader.Read())
                patients.Add(new RefPatient(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : Days.ToDate(reader.GetInt64(2))));
        command.CommandText = """
            SELECT f.pid, s.uri, f.code, f.date, f.value_num, f.unit, v.uri, f.value_code, f.resource_type, f.resource_id, f.kind, f.end_date
            FROM fact f JOIN code_system s ON s.sid = f.sid LEFT JOIN code_system v ON v.sid = f.value_sid
            """;
        using (var reader = command.ExecuteReader())
            while (reader.Read())
                facts.Add(new RefFact(reader.GetInt64(0), reader.GetString(1), reader.GetString(2),
                    reader.IsDBNull(3) ? null : Days.ToDate(reader.GetInt64(3)), reader.IsDBNull(4) ? null : reader.GetDouble(4),
                    reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6),
                    reader.IsDBNull(7) ? null : reader.GetString(7), reader.GetString(8), reader.GetString(9), reader.GetInt32(10),
                    reader.IsDBNull(11) ? null : Days.ToDate(reader.GetInt64(11))));
        command.CommandText = "SELECT resource_type, resource_id, name, target_type, target_id FROM reference_link";
        using (var reader = command.ExecuteReader())
            while (reader.Read()) links.Add(new RefLink(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4)));
        // The synthetic Consents, as imported (the site has no network changes).
        command.CommandText = "SELECT pid, policy, permit, start, \"end\" FROM consent_provision WHERE pid IS NOT NULL";
        using (var reader = command.ExecuteReader())
            while (reader.Read())
                provisions.Add(new RefProvision(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2) == 1,
                    reader.IsDBNull(3) ? null : Days.ToDate(reader.GetInt64(3)), reader.IsDBNull(4) ? null : Days.ToDate(reader.GetInt64(4))));
        command.CommandText = """
            SELECT a.resource_type, a.resource_id, a.name, s.uri, a.code, a.value_num, a.unit
            FROM attribute a LEFT JOIN code_system s ON s.sid = a.sid
            """;
        using (var reader = command.ExecuteReader())
            while (reader.Read())
                attributes.Add(new RefAttribute(reader.GetString(0), reader.GetString(1), reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                    reader.IsDBNull(5) ? null : reader.GetDouble(5), reader.IsDBNull(6) ? null : reader.GetString(6)));
        return (patients, facts, attributes, links, provisions);
    }
}
