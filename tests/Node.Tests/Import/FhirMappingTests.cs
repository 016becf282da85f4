using Xunit;
using Midia.Node.Store;
using static Midia.Node.Tests.Import.SiteFixture;

namespace Midia.Node.Tests.Import;

/// <summary>Each resource type of the hand-written export lands in the tables as the mapping says.</summary>
public sealed class FhirMappingTests : IDisposable
{
    readonly SiteFixture site = new();

    public FhirMappingTests()
    {
        Fixtures.WriteExport(site);
        var reports = site.ImportAll(Path.Combine(site.Dir, "export"));
        Assert.All(reports, r => Assert.True(r.Applied, string.Join("\n", r.Problems)));
    }

    public void Dispose() => site.Dispose();

    const string FactColumns = """
        SELECT p.resource_id, s.uri, f.code, f.kind, f.date, f.end_date, f.value_num, f.unit, vs.uri, f.value_code, f.display
        FROM fact f JOIN patient p ON p.pid = f.pid JOIN code_system s ON s.sid = f.sid LEFT JOIN code_system vs ON vs.sid = f.value_sid
        """;

    List<string> Facts(string type, string id) =>
        site.Rows($"{FactColumns} WHERE f.resource_type = '{type}' AND f.resource_id = '{id}' ORDER BY s.uri, f.code, vs.uri, f.value_code");

    List<string> Attributes(string type, string id) =>
        site.Rows($"""
            SELECT a.name, s.uri, a.code FROM attribute a LEFT JOIN code_system s ON s.sid = a.sid
            WHERE a.resource_type = '{type}' AND a.resource_id = '{id}' ORDER BY a.name, s.uri, a.code
            """);

    [Fact]
    public void PatientsKeepSexBirthDateDeceasedKvnrAndNameWithPartialBirthDatesOnTheirFirstDay()
    {
        Assert.Equal(
            [
                $"p1|female|{Day(1961, 7, 15)}|0|NULL|A123456780|Muster|Erika|NULL",
                $"p2|male|{Day(1950, 1, 1)}|1|{Day(2021, 2, 3)}|NULL|NULL|NULL|NULL",
                $"p3|other|{Day(1975, 3, 1)}|1|NULL|NULL|NULL|NULL|NULL",
            ],
            site.Rows("SELECT resource_id, sex, birth_date, deceased, deceased_date, kvnr, family, given, linkage FROM patient ORDER BY resource_id"));
        Assert.Equal(["1", "2", "3"], site.Rows("SELECT pid FROM patient ORDER BY pid"));
    }

    [Fact]
    public void AConditionGivesOneFactPerCodingWithTheDimdiSystemFoldedToBfarm()
    {
        Assert.Equal(
            [
                $"p1|{CodeSystems.Icd10Gm}|C50.4|1|{Day(2019, 3, 4)}|NULL|NULL|NULL|NULL|NULL|Bösartige Neubildung: Oberer äußerer Quadrant der Brustdrüse",
                $"p1|http://snomed.info/sct|254837009|1|{Day(2019, 3, 4)}|NULL|NULL|NULL|NULL|NULL|Malignant neoplasm of breast",
            ],
            Facts("Condition", "c1"));
        Assert.Equal(0, site.Scalar("SELECT count(*) FROM code_system WHERE uri LIKE '%dimdi%'"));
    }

    [Fact]
    public void AConditionDateFallsBackFromOnsetToOnsetPeriodToRecordedDate()
    {
        Assert.Equal([$"p2|{CodeSystems.Icd10Gm}|G35|1|{Day(2015, 6, 1)}|NULL|NULL|NULL|NULL|NULL|NULL"], Facts("Condition", "c2"));
        // An unknown code system is stored like any other; a coding without a system carries nothing.
        Assert.Equal([$"p3|urn:example:local-diagnoses|X1|1|{Day(2020, 1, 1)}|NULL|NULL|NULL|NULL|NULL|NULL"], Facts("Condition", "c3"));
    }

    [Fact]
    public void AConditionCarriesItsStatusSeverityBodySiteStageAndCategoryAsAttributes()
    {
        Assert.Equal(
            [
                "bodysite|http://snomed.info/sct|80248007",
                "category|http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item",
                "clinicalstatus|http://terminology.hl7.org/CodeSystem/condition-clinical|active",
                "severity|http://snomed.info/sct|24484000",
                "stage|http://snomed.info/sct|261614003",
                "stage|https://www.uicc.org/resources/tnm|IIA",
                "verificationstatus|http://terminology.hl7.org/CodeSystem/condition-ver-status|confirmed",
            ],
            Attributes("Condition", "c1"));
    }

    [Fact]
    public void AQuantityObservationKeepsValueAndUcumCodeAsUnit()
    {
        Assert.Equal([$"p2|http://loinc.org|2857-1|2|{Day(2020, 5, 6)}|NULL|4.25|ng/mL|NULL|NULL|PSA"], Facts("Observation", "o1"));
        Assert.Equal(
            [
                "bodysite|http://snomed.info/sct|41216001",
                "category|http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
                "interpretation|http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation|H",
                "method|http://snomed.info/sct|702659008",
                "status|http://hl7.org/fhir/observation-status|final",
            ],
            Attributes("Observation", "o1"));
    }

    [Fact]
    public void AnObservationWithoutUcumCodeUsesTheUnitTextAndThePeriodStart()
    {
        Assert.Equal([$"p2|{CodeSystems.MidiaMs}|edss|2|{Day(2021, 1, 1)}|NULL|3.5|score|NULL|NULL|NULL"], Facts("Observation", "o2"));
    }

    [Fact]
    public void ACodedObservationGivesOneFactPerCodeCodingAndValueCoding()
    {
        var date = Day(2019, 3, 10);
        Assert.Equal(
            [
                $"p1|http://loinc.org|48676-1|2|{date}|NULL|NULL|NULL|http://loinc.org|LA6576-8|NULL",
                $"p1|http://loinc.org|48676-1|2|{date}|NULL|NULL|NULL|http://snomed.info/sct|10828004|NULL",
                $"p1|http://loinc.org|85319-2|2|{date}|NULL|NULL|NULL|http://loinc.org|LA6576-8|NULL",
                $"p1|http://loinc.org|85319-2|2|{date}|NULL|NULL|NULL|http://snomed.info/sct|10828004|NULL",
            ],
            Facts("Observation", "o3"));
        Assert.Equal(["status|http://hl7.org/fhir/observation-status|amended"], Attributes("Observation", "o3"));
    }

    [Fact]
    public void IntegerAndDecimalValuesAreNumbers()
    {
        Assert.Equal([$"p1|http://loinc.org|lesions|2|{Day(2022, 1, 1)}|NULL|3|NULL|NULL|NULL|NULL"], Facts("Observation", "o4"));
        Assert.Equal([$"p1|http://loinc.org|6875-9|2|{Day(2022, 2, 2)}|NULL|2.5|NULL|NULL|NULL|NULL"], Facts("Observation", "o5"));
    }

    [Fact]
    public void ObservationComponentsBecomeFactsOfTheirOwnCodeWithTheSameDateAndResource()
    {
        var date = Day(2019, 3, 20);
        Assert.Equal(
            [
                $"p1|http://loinc.org|21908-9|2|{date}|NULL|NULL|NULL|http://snomed.info/sct|1222806003|NULL",
                $"p1|http://snomed.info/sct|399504009|2|{date}|NULL|NULL|NULL|https://www.uicc.org/resources/tnm|T2|NULL",
                $"p1|http://snomed.info/sct|399534004|2|{date}|NULL|1|{{count}}|NULL|NULL|NULL",
            ],
            Facts("Observation", "o6"));
    }

    [Fact]
    public void MedicationStatementsUseCodedOrContainedMedicationAndTheirPeriod()
    {
        Assert.Equal([$"p2|{CodeSystems.Atc}|L04AA36|3|{Day(2019, 1, 15)}|{Day(2023, 6, 30)}|NULL|NULL|NULL|NULL|ocrelizumab"], Facts("MedicationStatement", "m1"));
        Assert.Equal([$"p1|{CodeSystems.Atc}|L02BA01|3|{Day(2019, 5, 1)}|NULL|NULL|NULL|NULL|NULL|tamoxifen"], Facts("MedicationStatement", "m2"));
        Assert.Equal([$"p1|{CodeSystems.Atc}|L02BG03|3|{Day(2020, 7, 1)}|NULL|NULL|NULL|NULL|NULL|NULL"], Facts("MedicationStatement", "m3"));
    }

    [Fact]
    public void MedicationAdministrationsAreMedicationFacts()
    {
        Assert.Equal([$"p1|{CodeSystems.Atc}|L01FD01|3|{Day(2019, 6, 1)}|{Day(2019, 6, 1)}|NULL|NULL|NULL|NULL|NULL"], Facts("MedicationAdministration", "ma1"));
    }

    [Fact]
    public void ProceduresUsePerformedDateTimeOrPeriod()
    {
        Assert.Equal([$"p1|{CodeSystems.Ops}|5-870.a2|4|{Day(2019, 4, 2)}|{Day(2019, 4, 3)}|NULL|NULL|NULL|NULL|NULL"], Facts("Procedure", "pr1"));
        Assert.Equal([$"p2|{CodeSystems.Ops}|8-522|4|{Day(2020, 9, 9)}|NULL|NULL|NULL|NULL|NULL|NULL"], Facts("Procedure", "pr2"));
        Assert.Equal(["bodysite|http://snomed.info/sct|80248007", "category|http://snomed.info/sct|387713003"], Attributes("Procedure", "pr1"));
    }

    [Fact]
    public void AnImagingStudyGivesOneFactPerDistinctModalityWithItsDescription()
    {
        var date = Day(2022, 5, 6);
        Assert.Equal(
            [
                $"p2|{CodeSystems.Dicom}|CT|5|{date}|NULL|NULL|NULL|NULL|NULL|MRT Schädel",
                $"p2|{CodeSystems.Dicom}|MR|5|{date}|NULL|NULL|NULL|NULL|NULL|MRT Schädel",
            ],
            Facts("ImagingStudy", "i1"));
    }

    [Fact]
    public void AnActiveConsentGivesOneProvisionRowPerPolicyCodeWithInheritedPeriods()
    {
        Assert.Equal(
            [
                $"p1|2.16.840.1.113883.3.1937.777.24.5.3.7|1|{Day(2020, 1, 1)}|{Day(2050, 1, 1)}|Consent/k1|NULL|NULL",
                $"p1|2.16.840.1.113883.3.1937.777.24.5.3.8|1|{Day(2020, 1, 1)}|{Day(2025, 12, 31)}|Consent/k1|NULL|NULL",
                $"p1|care-sharing|0|{Day(2021, 1, 1)}|{Day(2050, 1, 1)}|Consent/k1|NULL|NULL",
            ],
            site.Rows("""
                SELECT p.resource_id, c.policy, c.permit, c.start, c."end", c.source, c.seq, c.linkage
                FROM consent_provision c JOIN patient p ON p.pid = c.pid ORDER BY c.policy
                """));
    }

    [Fact]
    public void EveryImportedFileBumpsTheDataVersionOnce()
    {
        Assert.Equal(8, site.Scalar("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'data_version'"));
        // conditions 2+1+1, observations 1+1+4+1+1+3, statements 3, administration 1, procedures 2, imaging 2
        Assert.Equal(23, site.Scalar("SELECT count(*) FROM fact"));
    }
}
