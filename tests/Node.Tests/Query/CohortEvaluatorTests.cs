using Midia.Node.Query;
using Midia.Node.Store;
using Xunit;
using static Midia.Node.Tests.Query.Ccdl;

namespace Midia.Node.Tests.Query;

public sealed class CohortEvaluatorTests : IDisposable
{
    static readonly DateOnly Today = new(2025, 2, 28);
    static readonly DateOnly Day = new(2021, 9, 9);
    readonly SiteFile site = new();

    public void Dispose() => site.Dispose();

    long Count(string ccdl) => site.Count(ccdl, Today);

    long Woman() => site.Patient("female", new DateOnly(1970, 5, 5));

    [Fact]
    public void AnIcdCodeMatchesItselfAndItsDescendantsOnly()
    {
        foreach (var code in new[] { "C50", "C50.4", "C50.41", "C51", "D05.1", "C5" })
            site.Fact(Woman(), Icd, code);
        site.Commit();
        Assert.Equal(3, Count(Only(Code(Icd, "C50"))));
        Assert.Equal(2, Count(Only(Code(Icd, "C50.4"))));
        Assert.Equal(1, Count(Only(Code(Icd, "C50.41"))));
        Assert.Equal(3, Count(Only(Code(Icd, "C50.-"))));
        Assert.Equal(5, Count(Only(Code(Icd, "C5"))));
        Assert.Equal(0, Count(Only(Code(Icd, "C49"))));
    }

    [Fact]
    public void AnOpsCodeMatchesItsDescendantsOnly()
    {
        foreach (var code in new[] { "8-52", "8-522.x", "8-522.91", "8-53", "8-5" })
            site.Fact(Woman(), Ops, code);
        site.Commit();
        Assert.Equal(3, Count(Only(Code(Ops, "8-52"))));
        Assert.Equal(2, Count(Only(Code("http://fhir.de/CodeSystem/dimdi/ops", "8-522"))));
    }

    [Fact]
    public void NonHierarchicalCodesMatchExactly()
    {
        site.Fact(Woman(), Loinc, "2857-1");
        site.Fact(Woman(), Loinc, "2857-10");
        site.Fact(Woman(), "urn:example:local", "X12");
        site.Commit();
        Assert.Equal(1, Count(Only(Code(Loinc, "2857-1"))));
        Assert.Equal(0, Count(Only(Code("urn:example:local", "X1"))));
    }

    [Fact]
    public void DimdiAndBfarmSpellingsOfIcdFindTheSameFacts()
    {
        site.Fact(Woman(), Icd, "G35.1");
        site.Fact(Woman(), Icd, "G35");
        site.Commit();
        Assert.Equal(2, Count(Only(Code(IcdOld, "G35"))));
        Assert.Equal(2, Count(Only(Code(Icd + "/", "G35"))));
    }

    [Fact]
    public void OldAndNewAtcCodesOfAnMsDrugFindEachOther()
    {
        site.Fact(Woman(), Atc, "L04AA36");  // ocrelizumab, old
        site.Fact(Woman(), Atc, "L04AG08");  // ocrelizumab, new
        site.Fact(Woman(), Atc, "L04AA23");  // natalizumab, old
        site.Fact(Woman(), Atc, "L03AX13");  // glatiramer, unchanged
        site.Commit();
        Assert.Equal(2, Count(Only(Code(Atc, "L04AA36"))));
        Assert.Equal(2, Count(Only(Code("http://www.whocc.no/atc", "L04AG08"))));
        Assert.Equal(1, Count(Only(Code(Atc, "L04AG03"))));
        Assert.Equal(1, Count(Only(Code(Atc, "L03AX13"))));
    }

    [Fact]
    public void ComparatorsAreExactAtTheirBoundaries()
    {
        foreach (var value in new[] { 3.9, 4, 4.1 })
            site.Fact(Woman(), Loinc, "2857-1", Day, value, "ng/mL");
        site.Commit();
        long Psa(string comparator) => Count(Only(Code(Loinc, "2857-1", Quantity(comparator, 4, "ng/mL"))));
        Assert.Equal(1, Psa("gt"));
        Assert.Equal(2, Psa("ge"));
        Assert.Equal(1, Psa("lt"));
        Assert.Equal(2, Psa("le"));
        Assert.Equal(1, Psa("eq"));
        Assert.Equal(2, Psa("ne"));
        Assert.Equal(2, Count(Only(Code(Loinc, "2857-1", Range(4, 4.1, "ng/mL")))));
        Assert.Equal(1, Count(Only(Code(Loinc, "2857-1", Range(4, 4, "ng/mL")))));
        Assert.Equal(0, Count(Only(Code(Loinc, "2857-1", Range(4.01, 4.09, "ng/mL")))));
    }

    [Fact]
    public void AFactInAnotherUnitDoesNotMatchButLitreSpellingsDo()
    {
        site.Fact(Woman(), Loinc, "2857-1", Day, 10, "ng/mL");
        site.Fact(Woman(), Loinc, "2857-1", Day, 10, "ng/ml");
        site.Fact(Woman(), Loinc, "2857-1", Day, 10, "ug/L");   // same quantity, other unit: not converted
        site.Fact(Woman(), Loinc, "2857-1", Day, 10, null);
        site.Fact(Woman(), Loinc, "8310-5", Day, 37, "Cel");
        site.Commit();
        Assert.Equal(2, Count(Only(Code(Loinc, "2857-1", Quantity("gt", 4, "ng/mL")))));
        Assert.Equal(2, Count(Only(Code(Loinc, "2857-1", Quantity("gt", 4, "ng/ml")))));
        Assert.Equal(1, Count(Only(Code(Loinc, "2857-1", Quantity("gt", 4, "ug/l")))));
        Assert.Equal(1, Count(Only(Code(Loinc, "2857-1", Quantity("gt", 4, null)))));
        Assert.Equal(0, Count(Only(Code(Loinc, "2857-1", Quantity("gt", 4, "NG/ML")))));
        Assert.Equal(1, Count(Only(Code(Loinc, "8310-5", Quantity("gt", 36, "Cel")))));
        Assert.Equal(0, Count(Only(Code(Loinc, "8310-5", Quantity("gt", 36, "CeL")))));
    }

    [Fact]
    public void ConceptFiltersMatchTheCodedValue()
    {
        site.Fact(Woman(), Loinc, "48676-1", Day, concept: (Loinc, "LA6576-8"));
        site.Fact(Woman(), Loinc, "48676-1", Day, concept: (Loinc, "LA6577-6"));
        site.Fact(Woman(), Loinc, "48676-1", Day, concept: (Snomed, "LA6576-8"));
        site.Commit();
        Assert.Equal(1, Count(Only(Code(Loinc, "48676-1", Concepts((Loinc, "LA6576-8"))))));
        Assert.Equal(2, Count(Only(Code(Loinc, "48676-1", Concepts((Loinc, "LA6576-8"), (Loinc, "LA6577-6"))))));
        Assert.Equal(0, Count(Only(Code(Loinc, "48676-1", Concepts(("urn:unknown", "LA6576-8"))))));
    }

    [Fact]
    public void TimeRestrictionsAreInclusiveAndNeedADatedFact()
    {
        site.Fact(Woman(), Icd, "C61", new DateOnly(2021, 9, 8));
        site.Fact(Woman(), Icd, "C61", new DateOnly(2021, 9, 9));
        site.Fact(Woman(), Icd, "C61", new DateOnly(2021, 10, 9));
        site.Fact(Woman(), Icd, "C61", new DateOnly(2021, 10, 10));
        site.Fact(Woman(), Icd, "C61");
        site.Commit();
        Assert.Equal(2, Count(Only(Code(Icd, "C61", Time("2021-09-09", "2021-10-09")))));
        Assert.Equal(3, Count(Only(Code(Icd, "C61", Time("2021-09-09", null)))));
        Assert.Equal(3, Count(Only(Code(Icd, "C61", Time(null, "2021-10-09")))));
        Assert.Equal(1, Count(Only(Code(Icd, "C61", Time("2021-10-09T23:00:00+02:00", "2021-10-09")))));
        Assert.Equal(5, Count(Only(Code(Icd, "C61"))));
    }

    [Fact]
    public void SexConceptsMatchTheirSpellings()
    {
        site.Patient("female", null);
        site.Patient("female", null);
        site.Patient("male", null);
        site.Patient("other", null);
        site.Patient("unknown", null);
        site.Commit();
        Assert.Equal(2, Count(Only(Sex("F"))));
        Assert.Equal(2, Count(Only(Sex("female"))));
        Assert.Equal(3, Count(Only(Sex("f", "M"))));
        Assert.Equal(1, Count(Only(Sex("D"))));
        Assert.Equal(1, Count(Only(Sex("unknown"))));
        Assert.Equal(0, Count(Only(Sex("Q"))));
    }

    [Fact]
    public void AgeIsCompletedYearsTodayAndLeapDayBirthdaysComeOnTheFirstOfMarch()
    {
        site.Patient("female", new DateOnly(2007, 2, 28));   // 18 today (2025-02-28)
        site.Patient("female", new DateOnly(2007, 3, 1));    // 17 until tomorrow
        site.Patient("female", new DateOnly(2004, 2, 29));   // 20 today, 21 on 1 March 2025
        site.Patient("female", null);                        // no birth date: no age criterion matches
        site.Commit();
        Assert.Equal(2, Count(Only(Age("ge", 18))));
        Assert.Equal(1, Count(Only(Age("gt", 18))));
        Assert.Equal(1, Count(Only(Age("eq", 17))));
        Assert.Equal(1, Count(Only(Age("eq", 20, "year"))));
        Assert.Equal(2, Count(Only(Age("lt", 20))));
        Assert.Equal(2, Count(Only(Age("ne", 20))));
        Assert.Equal(2, Count(Only(Code(Snomed, "424144002", Range(17, 18, "a")))));
        Assert.Equal(1, site.Evaluator.Evaluate(CohortQuery.Parse(Only(Age("eq", 21))), Days.From(new DateOnly(2025, 3, 1))).Count());
    }

    [Fact]
    public void ExclusionRemovesPatientsMatchingEveryCriterionOfAnyGroup()
    {
        var a = Woman(); site.Fact(a, Icd, "C50"); site.Fact(a, Icd, "I10");
        var b = Woman(); site.Fact(b, Icd, "C50"); site.Fact(b, Icd, "E11.9");
        var c = Woman(); site.Fact(c, Icd, "C50"); site.Fact(c, Icd, "I10"); site.Fact(c, Icd, "E11");
        var d = Woman(); site.Fact(d, Icd, "C50");
        site.Patient("male", null);
        site.Commit();
        Assert.Equal(3, Count(Cohort($"[[{Code(Icd, "C50")}]]", $"[[{Code(Icd, "I10")},{Code(Icd, "E11")}],[{Code(Icd, "X99")}]]")));
        Assert.Equal(1, Count(Cohort($"[[{Code(Icd, "C50")}]]", $"[[{Code(Icd, "I10")}],[{Code(Icd, "E11")}]]")));
        // No inclusion criteria: every patient of the site, minus the exclusions.
        Assert.Equal(5, Count(Cohort("[]")));
        Assert.Equal(2, Count(Cohort("[]", $"[[{Code(Icd, "I10")}],[{Code(Icd, "E11")},{Code(Icd, "C50")}]]")));
        // Inclusion is an AND of ORs.
        Assert.Equal(3, Count(Cohort($"[[{Code(Icd, "I10")},{Code(Icd, "E11")}],[{Code(Icd, "C50")}]]")));
        Assert.Equal(1, Count(Cohort($"[[{Code(Icd, "I10")}],[{Code(Icd, "E11")}]]")));
    }

    [Fact]
    public void AllConditionsOfACriterionHoldOnOneFact()
    {
        var p = Woman();
        site.Fact(p, Loinc, "2857-1", new DateOnly(2020, 1, 1), 10, "ng/mL");
        site.Fact(p, Loinc, "2857-1", new DateOnly(2022, 1, 1), 1, "ng/mL");
        site.Commit();
        Assert.Equal(0, Count(Only(Code(Loinc, "2857-1", Quantity("gt", 4, "ng/mL") + Time("2021-01-01", null)))));
        Assert.Equal(1, Count(Cohort($"[[{Code(Loinc, "2857-1", Quantity("gt", 4, "ng/mL"))}],[{Code(Loinc, "2857-1", Time("2021-01-01", null))}]]")));
    }

    [Fact]
    public void AttributeFiltersMatchTheAttributesOfTheFactsOwnResource()
    {
        var p1 = Woman();
        var r1 = site.Fact(p1, Icd, "C50.4", resourceType: "Condition");
        site.Attribute("Condition", r1, "stage", concept: (Snomed, "T2"));
        site.Attribute("Condition", r1, "size", value: 25, unit: "mm");
        var p2 = Woman();
        site.Fact(p2, Icd, "C50.4", resourceType: "Condition");
        var r2 = site.Fact(p2, Icd, "I10", resourceType: "Condition");
        site.Attribute("Condition", r2, "stage", concept: (Snomed, "T2"));   // stage of another condition
        site.Commit();
        string Stage(string code) => $$""","attributeFilters":[{"attributeCode":{"code":"Stage","system":"mii"},"type":"concept","selectedConcepts":[{"system":"{{Snomed}}","code":"{{code}}"}]}]""";
        Assert.Equal(1, Count(Only(Code(Icd, "C50", Stage("T2")))));
        Assert.Equal(0, Count(Only(Code(Icd, "C50", Stage("T3")))));
        var size = ""","attributeFilters":[{"attributeCode":{"code":"size"},"type":"quantity-range","minValue":20,"maxValue":30,"unit":{"code":"mm"}}]""";
        Assert.Equal(1, Count(Only(Code(Icd, "C50", size))));
        Assert.Equal(0, Count(Only(Code(Icd, "C50", size.Replace("\"mm\"", "\"cm\"")))));
    }

    [Fact]
    public void AnAttributeTheDataDoesNotCarryIsRefusedWithItsPath()
    {
        var example = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Query", "ccdl-example.json")))!;
        example["inclusionCriteria"]![3]![0]!.AsObject().Remove("attributeFilters");
        example["exclusionCriteria"]![2]![1]!["context"]!["code"] = "Laboruntersuchung";
        site.Fact(Woman(), Icd, "F00");
        site.Commit();
        var query = CohortQuery.Parse(example.ToJsonString());
        var refusal = Assert.Throws<CcdlException>(() => site.Evaluator.Evaluate(query, Days.From(Today)));
        Assert.Equal("exclusionCriteria[2][1].attributeFilters[0]", refusal.JsonPath);
        Assert.Contains("method", refusal.Message);
    }

    [Fact]
    public void UnknownCodesAndSystemsCountNobody()
    {
        site.Fact(Woman(), Icd, "C50");
        site.Commit();
        Assert.Equal(0, Count(Only(Code("urn:never-heard-of-it", "C50"))));
        Assert.Equal(0, Count(Only(Code(Icd, "U99.9"))));
    }

    [Fact]
    public void NewPatientsAreSeenAfterTheDataVersionChanges()
    {
        Woman();
        site.Commit();
        Assert.Equal(1, Count(Only(Sex("F"))));
        site.Patient("female", new DateOnly(1950, 1, 1));
        site.Commit();
        Assert.Equal(2, Count(Only(Sex("F"))));
        Assert.Equal(1, Count(Only(Age("gt", 70))));
    }

    [Fact]
    public void EveryFactCriterionIsAnIndexSearchNotATableScan()
    {
        var p = Woman();
        site.Fact(p, Icd, "C50");
        site.Fact(p, Loinc, "2857-1", Day, 5, "ng/mL");
        site.Fact(p, Loinc, "48676-1", Day, concept: (Loinc, "LA6576-8"));
        var r = site.Fact(p, Icd, "C61", resourceType: "Condition");
        site.Attribute("Condition", r, "stage", concept: (Snomed, "T2"));
        site.Commit();
        var query = CohortQuery.Parse(Cohort(
            $"[[{Code(Icd, "C50", Time("2020-01-01", null))}],[{Code(Loinc, "2857-1", Quantity("gt", 4, "ng/ml"))}],[{Code(Loinc, "48676-1", Concepts((Loinc, "LA6576-8")))}]]",
            $$"""[[{{Code(Icd, "C61", ",\"attributeFilters\":[{\"attributeCode\":{\"code\":\"stage\"},\"type\":\"concept\",\"selectedConcepts\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"T2\"}]}]")}}]]"""));
        var plans = site.Evaluator.Plans(query);
        Assert.Equal(4, plans.Count);
        Assert.All(plans, plan => Assert.DoesNotContain("SCAN f ", plan + " "));
        Assert.Contains(plans, plan => plan.Contains("fact_quantity"));
        Assert.Contains(plans, plan => plan.Contains("fact_concept"));
        Assert.Contains(plans, plan => plan.Contains("attribute_source"));
    }

    [Fact]
    public void StrataCountSexAgeBandAndFirstYear()
    {
        var a = site.Patient("female", new DateOnly(1975, 3, 1));   // 49 on 2025-02-28
        site.Fact(a, Icd, "C50.4", new DateOnly(2019, 5, 1));
        site.Fact(a, Atc, "L01FD01", new DateOnly(2018, 12, 31));
        var b = site.Patient("female", new DateOnly(1975, 2, 28));  // 50
        site.Fact(b, Icd, "C50", new DateOnly(2020, 1, 1));
        site.Fact(b, Icd, "C50");
        var c = site.Patient("male", null);
        site.Fact(c, Icd, "C50");
        site.Commit();
        var query = CohortQuery.Parse(Cohort($"[[{Code(Icd, "C50")},{Code(Atc, "L01XC03")}],[{Code(Icd, "C5")}]]"));
        var cohort = site.Evaluator.Evaluate(query, Days.From(Today));
        Assert.Equal(3, cohort.Count());
        var strata = site.Evaluator.Stratify(query, cohort, ["sex", "age-band", "year"], Days.From(Today))
            .Select(s => $"{string.Join("/", s.Key)}={s.Count}").ToList();
        Assert.Equal(["female/40-49/2018=1", "female/50-59/2020=1", "male/unknown/unknown=1"], strata);
        Assert.Equal(["female=2", "male=1"],
            site.Evaluator.Stratify(query, cohort, ["sex"], Days.From(Today)).Select(s => $"{s.Key[0]}={s.Count}"));
    }

    [Theory]
    [InlineData(new[] { "sex", "region" }, "by[1]", "unknown stratifier")]
    [InlineData(new[] { "sex", "sex" }, "by[1]", "twice")]
    public void BadStratifiersAreRefused(string[] by, string path, string message)
    {
        var query = CohortQuery.Parse(Only(Code(Icd, "C50")));
        var refusal = Assert.Throws<CcdlException>(() => site.Evaluator.Stratify(query, new PatientSet(1), by, Days.From(Today)));
        Assert.Equal(path, refusal.JsonPath);
        Assert.Contains(message, refusal.Message);
    }

    [Fact]
    public void YearStrataNeedDatedCriteriaInTheFirstGroup()
    {
        site.Commit();
        var withSex = CohortQuery.Parse(Cohort($"[[{Code(Icd, "C50")},{Sex("F")}],[{Code(Icd, "C61")}]]"));
        Assert.Equal("inclusionCriteria[0][1]", Assert.Throws<CcdlException>(() => site.Evaluator.Stratify(withSex, new PatientSet(1), ["year"], 0)).JsonPath);
        var none = CohortQuery.Parse(Cohort("[]", $"[[{Code(Icd, "C50")}]]"));
        Assert.Equal("by[0]", Assert.Throws<CcdlException>(() => site.Evaluator.Stratify(none, new PatientSet(1), ["year"], 0)).JsonPath);
    }
}
