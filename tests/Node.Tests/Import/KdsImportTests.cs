using Midia.Node.Query;
using Midia.Node.Store;
using Xunit;

namespace Midia.Node.Tests.Import;

/// <summary>
/// The MII core data set as a data integration centre exports it, imported unchanged: every resource
/// type the node uses is read (Medication by reference, Encounter, Specimen, DiagnosticReport,
/// MedicationRequest and -Administration, the cause of death), the others are skipped and counted,
/// entered-in-error is kept out of every count, and Bulk Data files that refer to each other import
/// in any order — a broken file changing nothing.
/// </summary>
public sealed class KdsImportTests : IDisposable
{
    readonly SiteFixture site = new();
    static readonly DateOnly Today = new(2025, 6, 30);

    public void Dispose() => site.Dispose();

    List<string> Facts(string type) =>
        site.Rows($"SELECT p.resource_id, s.uri, f.code, f.kind, f.date, f.end_date, f.resource_id FROM fact f JOIN patient p USING (pid) JOIN code_system s USING (sid) WHERE f.resource_type = '{type}' ORDER BY f.resource_id, s.uri, f.code");

    long Count(string ccdl)
    {
        using var db = SiteDatabase.Open(site.DbPath);
        return new CohortEvaluator(db).Evaluate(CohortQuery.Parse(ccdl), Days.From(Today)).Count();
    }

    [Fact]
    public void TheKdsTransactionBundleImportsUnchangedWithEveryResourceTypeTheNodeUses()
    {
        var bundle = site.Write("kds-bundle.json", KdsFixtures.TransactionBundle);

        var report = Assert.Single(site.ImportRun([bundle]));

        Assert.True(report.Applied, string.Join("\n", report.Problems));
        Assert.Equal(new Dictionary<string, long> { ["Organization"] = 1, ["Practitioner"] = 1 }, report.SkippedByType);
        Assert.Equal(2, report.EnteredInError);
        var day = (int year, int month, int d) => SiteFixture.Day(year, month, d).ToString();
        // Encounter: its class, dated by its period (kind 7).
        Assert.Equal([$"kds-p1|http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP|7|{day(2023, 3, 1)}|{day(2023, 3, 10)}|kds-e1"], Facts("Encounter"));
        // The drug of every statement, administration and request is its Medication's codes (PZN, ATC, ingredient).
        Assert.Equal(
        [
            $"kds-p1|http://fhir.de/CodeSystem/ask|33451|3|{day(2023, 4, 1)}|NULL|kds-ma1",
            $"kds-p1|http://fhir.de/CodeSystem/bfarm/atc|L01FD01|3|{day(2023, 4, 1)}|NULL|kds-ma1",
            $"kds-p1|http://fhir.de/CodeSystem/ifa/pzn|10203595|3|{day(2023, 4, 1)}|NULL|kds-ma1",
        ], Facts("MedicationAdministration"));
        Assert.Contains($"kds-p1|http://fhir.de/CodeSystem/bfarm/atc|L01FD01|3|{day(2023, 4, 1)}|{day(2024, 3, 31)}|kds-ms1", Facts("MedicationStatement"));
        Assert.Contains($"kds-p1|http://fhir.de/CodeSystem/bfarm/atc|L01FD01|10|{day(2023, 3, 25)}|NULL|kds-mr1", Facts("MedicationRequest"));
        Assert.Equal([$"kds-p1|http://snomed.info/sct|119376003|8|{day(2023, 3, 2)}|NULL|kds-s1"], Facts("Specimen"));
        Assert.Equal([$"kds-p1|http://loinc.org|11502-2|9|{day(2023, 3, 2)}|NULL|kds-dr1"], Facts("DiagnosticReport"));
        // The cause of death (kind 6) and an ordinary diagnosis (kind 1); the entered-in-error ones wrote nothing.
        Assert.Equal(
        [
            $"kds-p1|http://fhir.de/CodeSystem/bfarm/alpha-id|I76281|1|{day(2023, 2, 20)}|NULL|kds-c1",
            $"kds-p1|http://fhir.de/CodeSystem/bfarm/icd-10-gm|C50.4|1|{day(2023, 2, 20)}|NULL|kds-c1",
            "kds-p2|http://hl7.org/fhir/sid/icd-10|I21.9|6|NULL|NULL|kds-cod",
        ], Facts("Condition"));
        Assert.Equal([$"kds-p1|http://loinc.org|2039-6|2|{day(2023, 3, 2)}|NULL|kds-o1"], Facts("Observation"));
        // References between the resources, as the reference filters follow them.
        Assert.Equal(
        [
            "Condition|kds-c1|encounter|Encounter|kds-e1",
            "DiagnosticReport|kds-dr1|encounter|Encounter|kds-e1",
            "DiagnosticReport|kds-dr1|result|Observation|kds-o1",
            "DiagnosticReport|kds-dr1|specimen|Specimen|kds-s1",
            "Encounter|kds-e1|diagnosis|Condition|kds-c1",
            "MedicationAdministration|kds-ma1|encounter|Encounter|kds-e1",
            "MedicationRequest|kds-mr1|encounter|Encounter|kds-e1",
            "MedicationStatement|kds-ms1|encounter|Encounter|kds-e1",
            "Observation|kds-o1|encounter|Encounter|kds-e1",
            "Observation|kds-o1|specimen|Specimen|kds-s1",
            "Procedure|kds-pr1|encounter|Encounter|kds-e1",
            "Procedure|kds-pr1|reasonreference|Condition|kds-c1",
            "Specimen|kds-s1|festgestelltediagnose|Condition|kds-c1",
        ], site.Rows("SELECT * FROM reference_link ORDER BY 1, 2, 3"));
        string[] encounterAttributes =
        [
            "kontaktart|normalstationaer", "kontaktebene|einrichtungskontakt", "type|einrichtungskontakt", "type|normalstationaer",
            "fachabteilungsschluessel|2400", "servicetype|2400", "aufnahmeanlass|E", "serviceprovider|260950567",
        ];
        Assert.Equal(encounterAttributes.Order(), site.Rows("SELECT name || '|' || code FROM attribute WHERE resource_type = 'Encounter'").Order());
        Assert.Equal(1, site.Scalar("SELECT count(*) FROM consent_provision WHERE policy = '2.16.840.1.113883.3.1937.777.24.5.3.8'"));
    }

    [Fact]
    public void FdpgStyleQueriesCountTheKdsBundleByHand()
    {
        site.ImportRun([site.Write("kds-bundle.json", KdsFixtures.TransactionBundle)]);
        static string Criterion(string context, string system, string code, string extra = "") =>
            $$"""{"context":{"system":"fdpg.mii.cds","code":"{{context}}"},"termCodes":[{"system":"{{system}}","code":"{{code}}"}]{{extra}}}""";
        static string Query(params string[] groups) =>
            $$"""{"version":"https://medizininformatik-initiative.de/fdpg/StructuredQuery/v3/schema","inclusionCriteria":[{{string.Join(",", groups.Select(g => $"[{g}]"))}}]}""";

        // A specimen taken for a breast cancer diagnosis (reference filter), by the diagnosis' ICD group.
        Assert.Equal(1, Count(Query(Criterion("Bioprobe", "http://snomed.info/sct", "119376003",
            ""","attributeFilters":[{"type":"reference","attributeCode":{"code":"festgestellteDiagnose"},"criteria":[{"context":{"code":"Diagnose"},"termCodes":[{"system":"http://fhir.de/CodeSystem/bfarm/icd-10-gm","code":"C00-C97"}]}]}]"""))));
        // A diagnosis made during an inpatient stay in gynaecology (the diagnosis' encounter, with its department).
        Assert.Equal(1, Count(Query(Criterion("Diagnose", "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "C50",
            ""","attributeFilters":[{"type":"reference","attributeCode":{"code":"encounter"},"criteria":[{"context":{"code":"Fall"},"termCodes":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"}],"attributeFilters":[{"type":"concept","attributeCode":{"code":"Fachabteilungsschluessel"},"selectedConcepts":[{"system":"http://fhir.de/CodeSystem/dkgev/Fachabteilungsschluessel","code":"2400"}]}]}]}]"""))));
        // Inpatient encounters at the Kontaktebene of the whole stay.
        Assert.Equal(1, Count(Query(Criterion("Fall", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "IMP",
            ""","attributeFilters":[{"type":"concept","attributeCode":{"code":"Kontaktebene"},"selectedConcepts":[{"system":"http://fhir.de/CodeSystem/Kontaktebene","code":"einrichtungskontakt"}]}]"""))));
        // Trastuzumab by ATC group, read from the Medication: administered, prescribed.
        Assert.Equal(1, Count(Query(Criterion("Medikamentenverabreichung", "http://fhir.de/CodeSystem/bfarm/atc", "L01FD"))));
        Assert.Equal(1, Count(Query(Criterion("Medikamentenverordnung", "http://fhir.de/CodeSystem/bfarm/atc", "L01XC03"))));
        // Cause of death: in its own context, not a diagnosis.
        Assert.Equal(1, Count(Query(Criterion("Todesursache", "http://hl7.org/fhir/sid/icd-10", "IX"))));
        Assert.Equal(0, Count(Query(Criterion("Diagnose", "http://hl7.org/fhir/sid/icd-10", "I21"))));
        // Entered in error counts nowhere: the CEA of 40 and the C61 diagnosis.
        Assert.Equal(0, Count(Query(Criterion("Laboruntersuchung", "http://loinc.org", "2039-6",
            ""","valueFilter":{"type":"quantity-comparator","comparator":"gt","value":5,"unit":{"code":"ng/mL"}}"""))));
        Assert.Equal(1, Count(Query(Criterion("Laboruntersuchung", "http://loinc.org", "2039-6"))));
        Assert.Equal(0, Count(Query(Criterion("Diagnose", "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "C61"))));
        // The lab report and the consent criterion.
        Assert.Equal(1, Count(Query(Criterion("Befundbericht", "http://loinc.org", "11502-2"))));
        Assert.Equal(1, Count(Query(Criterion("Einwilligung", "fdpg.consent.combined", "yes-yes-no-no"))));
    }

    [Fact]
    public void StrictRefusesTheBundleForItsOrganizationAndPractitioner()
    {
        var bundle = site.Write("kds-bundle.json", KdsFixtures.TransactionBundle);
        var report = Assert.Single(site.ImportRun([bundle], skipUnknown: false));
        Assert.False(report.Applied);
        Assert.Equal(2, report.Problems.Count);
        Assert.All(report.Problems, p => Assert.Contains("is a resource type this node does not use", p.Message));
        Assert.Equal(0, site.Scalar("SELECT count(*) FROM patient"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AMedicationInAnotherFileOfTheRunResolvesInEitherOrder(bool medicationsFirst)
    {
        var patient = site.WriteNdjson("Patient.ndjson", KdsFixtures.PatientP2Alone);
        var statements = site.WriteNdjson("MedicationStatement.ndjson", KdsFixtures.OcrelizumabStatement);
        var medications = site.WriteNdjson("Medication.ndjson", KdsFixtures.OcrelizumabMedication);

        var reports = site.ImportRun(medicationsFirst ? [patient, medications, statements] : [statements, patient, medications]);

        Assert.All(reports, r => Assert.True(r.Applied, string.Join("\n", r.Problems)));
        Assert.Equal([$"kds-p2|http://fhir.de/CodeSystem/bfarm/atc|L04AA36|3|{SiteFixture.Day(2021, 3, 1)}|NULL|kds-ms2"], Facts("MedicationStatement"));
        // Either order leaves the same database (up to row ids and the number of versions).
        var other = new SiteFixture();
        try
        {
            other.ImportRun(medicationsFirst ? [statements, patient, medications] : [patient, medications, statements]);
            Assert.Equal(other.Dump(withMeta: false, withRowIds: false), site.Dump(withMeta: false, withRowIds: false));
        }
        finally { other.Dispose(); }
    }

    [Fact]
    public void ABrokenMedicationFileChangesNothingAndTheStatementsThatNeedItAreRefusedToo()
    {
        site.ImportRun([site.WriteNdjson("Patient.ndjson", KdsFixtures.PatientP2Alone)]);
        var before = site.Dump();
        var statements = site.WriteNdjson("run/MedicationStatement.ndjson", KdsFixtures.OcrelizumabStatement);
        var broken = site.WriteNdjson("run/Medication.ndjson", KdsFixtures.OcrelizumabMedication, """{"resourceType":"Medication","id":"kds-m3","code":{"coding":"L04AA40"}}""");

        var reports = site.ImportRun([statements, broken]);

        Assert.All(reports, r => Assert.False(r.Applied));
        Assert.Contains("Medication/kds-m3 code.coding: expected an array", Assert.Single(reports[1].Problems).Message);
        Assert.Contains("MedicationStatement/kds-ms2 medicationReference.reference: Medication/kds-m2 is neither in this file, nor in the site database, nor in another file of this import",
            Assert.Single(reports[0].Problems).Message);
        Assert.Equal(before, site.Dump());

        // Fixed, the same run goes through.
        site.WriteNdjson("run/Medication.ndjson", KdsFixtures.OcrelizumabMedication);
        Assert.All(site.ImportRun([statements, broken]), r => Assert.True(r.Applied));
    }

    [Fact]
    public void ACorrectedMedicationRecodesTheStatementsThatReferToIt()
    {
        var patient = site.WriteNdjson("Patient.ndjson", KdsFixtures.PatientP2Alone);
        site.ImportRun([patient, site.WriteNdjson("Medication.ndjson", KdsFixtures.OcrelizumabMedication), site.WriteNdjson("MedicationStatement.ndjson", KdsFixtures.OcrelizumabStatement)]);
        Assert.Equal(1, Count("""{"version":"2","inclusionCriteria":[[{"termCodes":[{"system":"http://fhir.de/CodeSystem/bfarm/atc","code":"L04AA36"}]}]]}"""));

        // The site's data integration centre corrects the drug: natalizumab, not ocrelizumab.
        site.ImportRun([site.WriteNdjson("fix/Medication.ndjson", KdsFixtures.OcrelizumabMedication.Replace("L04AA36", "L04AA23").Replace("Ocrelizumab", "Natalizumab"))]);

        Assert.Equal(0, Count("""{"version":"2","inclusionCriteria":[[{"termCodes":[{"system":"http://fhir.de/CodeSystem/bfarm/atc","code":"L04AA36"}]}]]}"""));
        Assert.Equal(1, Count("""{"version":"2","inclusionCriteria":[[{"termCodes":[{"system":"http://fhir.de/CodeSystem/bfarm/atc","code":"L04AG03"}]}]]}"""));
        Assert.Equal([$"kds-p2|http://fhir.de/CodeSystem/bfarm/atc|L04AA23|3|{SiteFixture.Day(2021, 3, 1)}|NULL|kds-ms2"], Facts("MedicationStatement"));
    }

    [Fact]
    public void AResourceCorrectedToEnteredInErrorLeavesEveryCount()
    {
        var patient = site.WriteNdjson("Patient.ndjson", KdsFixtures.PatientP2Alone);
        var condition = """{"resourceType":"Condition","id":"c","code":{"coding":[{"system":"http://fhir.de/CodeSystem/bfarm/icd-10-gm","code":"C61"}]},"subject":{"reference":"Patient/kds-p2"}}""";
        site.ImportRun([patient, site.WriteNdjson("Condition.ndjson", condition)]);
        const string c61 = """{"version":"2","inclusionCriteria":[[{"termCodes":[{"system":"http://fhir.de/CodeSystem/bfarm/icd-10-gm","code":"C61"}]}]]}""";
        Assert.Equal(1, Count(c61));

        var report = Assert.Single(site.ImportRun([site.WriteNdjson("fix/Condition.ndjson",
            condition.Replace("\"code\":{", "\"verificationStatus\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/condition-ver-status\",\"code\":\"entered-in-error\"}]},\"code\":{"))]));

        Assert.Equal(1, report.EnteredInError);
        Assert.Equal(0, Count(c61));
        Assert.Equal(0, site.Scalar("SELECT count(*) FROM fact WHERE resource_id = 'c'"));
    }
}
