using Midia.Node.Query;
using Xunit;
using static Midia.Node.Tests.Query.Ccdl;

namespace Midia.Node.Tests.Query;

public sealed class CcdlParsingTests
{
    static readonly string Example = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Query", "ccdl-example.json"));

    static CcdlException Refused(string json) => Assert.Throws<CcdlException>(() => CohortQuery.Parse(json));

    [Fact]
    public void TheReferenceExampleIsRefusedWhereItReadsABodyTemperatureInContextPatient()
    {
        // Context Patient holds sex and age; a lab code there has no reading (the FDPG would find no mapping either).
        var refusal = Refused(Example);
        Assert.Equal("exclusionCriteria[2][1].termCodes[0]", refusal.JsonPath);
        Assert.Contains("context Patient", refusal.Message);
    }

    [Fact]
    public void TheReferenceExampleParsesWithItsReferenceFilterOnceTheTemperatureIsALabValue()
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(Example)!;
        node["exclusionCriteria"]![2]![1]!["context"]!["code"] = "Laboruntersuchung";
        var query = CohortQuery.Parse(node.ToJsonString());
        Assert.Equal("Example-CCDL", query.Display);
        Assert.Equal(4, query.Inclusion.Count);
        Assert.Equal(3, query.Exclusion.Count);
        var specimen = query.Inclusion.SelectMany(g => g).Single(c => c.References.Count > 0);
        Assert.Equal("Bioprobe", specimen.Context!.Name);
        var reference = Assert.Single(specimen.References);
        Assert.Equal("festgestelltediagnose", reference.Name); // the example's "diagnose"
        Assert.Equal(2, reference.Criteria.Count);
        Assert.Contains("\"type\":\"reference\"", query.CanonicalJson);
        // F and M both normalise; the age units a and year both mean completed years.
        Assert.Contains("\"code\":\"female\"", query.CanonicalJson);
        Assert.DoesNotContain("Example-CCDL", query.CanonicalJson);
        Assert.DoesNotContain("dimdi", query.CanonicalJson);
    }

    [Theory]
    [InlineData("""{"version":"2","inclusionCriteria":[],"comparator":"gt"}""", "comparator", "does not belong here")]
    [InlineData("""{"inclusionCriteria":[]}""", "version", "missing")]
    [InlineData("""{"version":"4"}""", "version", "unsupported")]
    [InlineData("""{"version":"2.x"}""", "version", "unsupported")]
    [InlineData("""{"version":2}""", "version", "must be a string")]
    [InlineData("""{"version":"2","inclusionCriteria":{}}""", "inclusionCriteria", "must be an array")]
    [InlineData("""{"version":"2","inclusionCriteria":[[]]}""", "inclusionCriteria[0]", "empty group")]
    [InlineData("""{"version":"2","exclusionCriteria":[{}]}""", "exclusionCriteria[0]", "must be an array")]
    [InlineData("""{"version":"2", "version":"2"}""", "version", "twice")]
    [InlineData("""{"version":"2",""", "$", "not valid JSON")]
    public void MalformedQueriesAreRefusedWithTheirPath(string json, string path, string message)
    {
        var refusal = Refused(json);
        Assert.Equal(path, refusal.JsonPath);
        Assert.Contains(message, refusal.Message);
    }

    [Theory]
    [InlineData("""{"termCodes":[{"system":"http://loinc.org","code":"1"}],"selectedConcepts":[]}""", ".selectedConcepts", "does not belong here")]
    [InlineData("""{"context":{"code":"Diagnose"}}""", "", "termCodes")]
    [InlineData("""{"termCodes":{"system":"a","code":"b"}}""", ".termCodes", "must be an array")]
    [InlineData("""{"termCodes":[]}""", ".termCodes", "empty")]
    [InlineData("""{"termCodes":[{"system":"a"}]}""", ".termCodes[0]", "missing field 'code'")]
    [InlineData("""{"termCodes":[{"system":" ","code":"b"}]}""", ".termCodes[0].system", "empty")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b","value":3}]}""", ".termCodes[0].value", "does not belong here")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"context":{"code":"x","extra":1}}""", ".context.code", "not one this node evaluates")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"context":{"system":"other.ontology","code":"Diagnose"}}""", ".context.system", "FDPG ontology")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"valueFilter":{"type":"quantity-comparator","comparator":"gte","value":1}}""", ".valueFilter.comparator", "eq, ne, lt, le, gt, ge")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"valueFilter":{"type":"quantity-comparator","comparator":"gt","value":"4"}}""", ".valueFilter.value", "must be a number")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"valueFilter":{"type":"quantity-comparator","comparator":"gt"}}""", ".valueFilter", "missing field 'value'")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"valueFilter":{"type":"quantity-range","minValue":5,"maxValue":4}}""", ".valueFilter.minValue", "swap")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"valueFilter":{"type":"quantity-range","minValue":1,"maxValue":4,"comparator":"gt"}}""", ".valueFilter.comparator", "does not belong here")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"valueFilter":{"type":"fuzzy"}}""", ".valueFilter.type", "unknown filter type")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"valueFilter":{"selectedConcepts":[]}}""", ".valueFilter", "missing field 'type'")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"valueFilter":{"type":"concept","selectedConcepts":[]}}""", ".valueFilter.selectedConcepts", "empty")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"valueFilter":{"type":"concept","selectedConcepts":[{"code":"LA6576-8"}]}}""", ".valueFilter.selectedConcepts[0]", "missing field 'system'")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"valueFilter":{"type":"concept","selectedConcepts":[{"code":"x","system":""}]}}""", ".valueFilter.selectedConcepts[0].system", "empty")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"valueFilter":{"type":"quantity-comparator","comparator":"gt","value":1,"unit":"mg"}}""", ".valueFilter.unit", "must be an object")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"timeRestriction":{"afterDate":"09.09.2021"}}""", ".timeRestriction.afterDate", "yyyy-MM-dd")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"timeRestriction":{"afterDate":"2021-10-09","beforeDate":"2021-09-09"}}""", ".timeRestriction.afterDate", "swap")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"timeRestriction":{"after":"2021-10-09"}}""", ".timeRestriction.after", "neither")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"attributeFilters":[{"type":"reference","criteria":[],"attributeCode":{"code":"x"}}]}""", ".attributeFilters[0].criteria", "empty")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"attributeFilters":[{"type":"reference","criteria":[{"termCodes":[{"system":"http://loinc.org","code":"LL2191-6"}],"valueFilter":{"type":"concept","selectedConcepts":[{"code":"F"}]}}],"attributeCode":{"code":"x"}}]}""", ".attributeFilters[0].criteria[0]", "reference filter follows a link")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"attributeFilters":[{"type":"reference","criteria":[{"termCodes":[{"system":"a","code":"b"}],"negated":true}],"attributeCode":{"code":"x"}}]}""", ".attributeFilters[0].criteria[0].negated", "cannot be negated")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"negated":"yes"}""", ".negated", "must be a boolean")]
    [InlineData("""{"termCodes":[{"system":"fdpg.consent.combined","code":"yes-yes-no"}],"context":{"code":"Einwilligung"}}""", ".termCodes[0].code", "not a consent code")]
    [InlineData("""{"termCodes":[{"system":"fdpg.consent.combined","code":"yes-yes-no-no"}],"timeRestriction":{"afterDate":"2020-01-01"}}""", ".timeRestriction", "consent is evaluated as in force today")]
    [InlineData("""{"termCodes":[{"system":"fdpg.consent.combined","code":"yes-yes-no-no"}],"context":{"code":"Diagnose"}}""", ".context", "context Einwilligung")]
    [InlineData("""{"termCodes":[{"system":"http://loinc.org","code":"2857-1"}],"context":{"code":"Einwilligung"}}""", ".termCodes[0].code", "not a consent code")]
    [InlineData("""{"termCodes":[{"system":"http://loinc.org","code":"30525-0"}],"context":{"code":"Diagnose"},"valueFilter":{"type":"quantity-comparator","comparator":"gt","value":18,"unit":{"code":"a"}}}""", ".context", "patient criterion")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"attributeFilters":[{"type":"concept","selectedConcepts":[{"system":"s","code":"c"}]}]}""", ".attributeFilters[0]", "attributeCode")]
    [InlineData("""{"termCodes":[{"system":"a","code":"b"}],"attributeFilters":[{"attributeCode":{"code":"stage"},"type":"concept","selectedConcepts":[{"system":"s","code":"c"}],"value":3}]}""", ".attributeFilters[0].value", "does not belong here")]
    [InlineData("""{"termCodes":[{"system":"http://loinc.org","code":"LL2191-6"}]}""", "", "sex criterion")]
    [InlineData("""{"termCodes":[{"system":"http://loinc.org","code":"LL2191-6"}],"valueFilter":{"type":"quantity-comparator","comparator":"gt","value":1}}""", ".valueFilter.type", "sex is a concept")]
    [InlineData("""{"termCodes":[{"system":"http://loinc.org","code":"LL2191-6"}],"valueFilter":{"type":"concept","selectedConcepts":[{"code":"F"}]},"timeRestriction":{"afterDate":"2020-01-01"}}""", ".timeRestriction", "sex has no date")]
    [InlineData("""{"termCodes":[{"system":"http://loinc.org","code":"LL2191-6"}],"valueFilter":{"type":"concept","selectedConcepts":[{"code":"F"}]},"attributeFilters":[{"type":"concept","attributeCode":{"code":"x"},"selectedConcepts":[{"system":"s","code":"c"}]}]}""", ".attributeFilters[0]", "no attributes")]
    [InlineData("""{"termCodes":[{"system":"http://loinc.org","code":"LL2191-6"},{"system":"http://fhir.de/CodeSystem/bfarm/icd-10-gm","code":"C50"}],"valueFilter":{"type":"concept","selectedConcepts":[{"code":"F"}]}}""", ".termCodes[1]", "separate criteria")]
    [InlineData("""{"termCodes":[{"system":"http://loinc.org","code":"30525-0"}]}""", "", "age criterion")]
    [InlineData("""{"termCodes":[{"system":"http://loinc.org","code":"30525-0"}],"valueFilter":{"type":"quantity-comparator","comparator":"gt","value":18,"unit":{"code":"mo"}}}""", ".valueFilter.unit.code", "completed years")]
    [InlineData("""{"termCodes":[{"system":"http://snomed.info/sct","code":"424144002"}],"valueFilter":{"type":"quantity-comparator","comparator":"gt","value":18}}""", ".valueFilter", "unit a")]
    [InlineData("""{"termCodes":[{"system":"http://loinc.org","code":"30525-0"}],"valueFilter":{"type":"quantity-comparator","comparator":"gt","value":18.5,"unit":{"code":"a"}}}""", ".valueFilter.value", "whole number")]
    [InlineData("""{"termCodes":[{"system":"http://loinc.org","code":"30525-0"}],"valueFilter":{"type":"quantity-comparator","comparator":"gt","value":18,"unit":{"code":"a"}},"timeRestriction":{"beforeDate":"2020-01-01"}}""", ".timeRestriction", "age is completed years today")]
    [InlineData("""{"termCodes":[{"system":"http://loinc.org","code":"30525-0"}],"valueFilter":{"type":"concept","selectedConcepts":[{"code":"x","system":"y"}]}}""", ".valueFilter.type", "age is a quantity")]
    public void BadCriteriaAreRefusedWithThePathOfWhatToChange(string criterion, string suffix, string message)
    {
        var refusal = Refused(Cohort($"[[{Code(Loinc, "1")}],[{Code(Loinc, "2")},{criterion}]]"));
        Assert.Equal("inclusionCriteria[1][1]" + suffix, refusal.JsonPath);
        Assert.Contains(message, refusal.Message);
    }

    [Fact]
    public void RefusalsInExclusionGroupsNameTheExclusionPath()
    {
        var refusal = Refused(Cohort("[]", $$"""[[{{Code(Icd, "C50")}}],[{{Code(Icd, "C61")}},{{Code(Loinc, "2857-1", ",\"valueFilter\":{\"type\":\"quantity-comparator\",\"comparator\":\"~\",\"value\":1}")}}]]"""));
        Assert.Equal("exclusionCriteria[1][1].valueFilter.comparator", refusal.JsonPath);
    }

    [Fact]
    public void FieldsCcdlDoesNotDefineAreIgnored()
    {
        // CCDL 2.0.0 dropped additionalProperties: false; the FDPG portal may add descriptive fields anywhere.
        var plain = CohortQuery.Parse(Only(Code(Icd, "C50")));
        var decorated = CohortQuery.Parse($$$"""
            {"version":"2","foo":1,"inclusionCriteria":[[{"termCodes":[{"system":"{{{Icd}}}","code":"C50","weight":3}],"uiProfile":"x","context":{"code":"Diagnose","extra":1}}]]}
            """);
        Assert.Equal(plain.Inclusion[0][0].TermCodes, decorated.Inclusion[0][0].TermCodes);
        Assert.Equal("Diagnose", decorated.Inclusion[0][0].Context!.Name);
    }

    [Fact]
    public void UnknownCodesAndSystemsAreNotErrors()
    {
        var query = CohortQuery.Parse(Only(Code("urn:never-heard-of-it", "Q-42")));
        Assert.Equal("urn:never-heard-of-it", Assert.Single(query.Inclusion[0]).TermCodes[0].System);
    }

    [Fact]
    public void TheSameQuestionWrittenTwoWaysHasOneHash()
    {
        var one = CohortQuery.Parse(Cohort(
            $"[[{Sex("F")}],[{Code(IcdOld, " C50 ")},{Code(Icd, "D05")}],[{Code(Atc, "L04AA36", Time("2021-01-01", "2021-12-31T23:59:00"))}],[{Code(Loinc, "2857-1", Quantity("gt", 4.0, "ng/ml"))}]]",
            $"[[{Age("gt", 65)},{Code(Icd, "G35")}]]"));
        var two = CohortQuery.Parse(Cohort(
            $"[[{Code(Loinc, "2857-1", Quantity("gt", 4, "ng/mL"))}],[{Code(Atc, "L04AG08", Time("2021-01-01", "2021-12-31"))}],[{Code(Icd, "D05")},{Code(Icd, "C50")},{Code(Icd, "C50")}],[{Sex("female")}]]",
            $"[[{Code(IcdOld, "G35")},{Code(Snomed, "424144002", Quantity("gt", 65, "year"))}]]").Replace("\"test\"", "\"another title\""));
        Assert.Equal(one.CanonicalJson, two.CanonicalJson);
        Assert.Equal(one.CanonicalHash, two.CanonicalHash);
        Assert.Matches("^[0-9a-f]{64}$", one.CanonicalHash);
    }

    [Theory]
    [InlineData("gt", 4, "ng/mL", "ge", 4, "ng/mL")]
    [InlineData("gt", 4, "ng/mL", "gt", 4.5, "ng/mL")]
    [InlineData("gt", 4, "ng/mL", "gt", 4, "ug/L")]
    [InlineData("gt", 4, "ng/mL", "gt", 4, null)]
    public void DifferentQuestionsHaveDifferentHashes(string c1, double v1, string? u1, string c2, double v2, string? u2)
    {
        var one = CohortQuery.Parse(Only(Code(Loinc, "2857-1", Quantity(c1, v1, u1))));
        var two = CohortQuery.Parse(Only(Code(Loinc, "2857-1", Quantity(c2, v2, u2))));
        Assert.NotEqual(one.CanonicalHash, two.CanonicalHash);
    }

    [Fact]
    public void AndIsNotOrAndInclusionIsNotExclusion()
    {
        string a = Code(Icd, "C50"), b = Code(Icd, "C61");
        var hashes = new[]
        {
            Cohort($"[[{a}],[{b}]]"), Cohort($"[[{a},{b}]]"), Cohort("[]", $"[[{a}],[{b}]]"), Cohort("[]", $"[[{a},{b}]]"),
            Cohort($"[[{a}]]", $"[[{b}]]"), Cohort($"[[{b}]]", $"[[{a}]]"), Cohort($"[[{Code(Icd, "C50", Time("2020-01-01", null))}],[{b}]]"),
        }.Select(q => CohortQuery.Parse(q).CanonicalHash).ToList();
        Assert.Equal(hashes.Count, hashes.Distinct().Count());
    }

    [Fact]
    public void OldAndNewAtcCodesOfOneDrugExpandToBoth()
    {
        var codes = CohortQuery.Parse(Only(Code("http://www.whocc.no/atc", "N07XX09"))).Inclusion[0][0].TermCodes;
        Assert.Equal(["L04AX07", "N07XX09"], codes.Select(c => c.Code));
        Assert.All(codes, c => Assert.Equal(Atc, c.System));
    }

    [Fact]
    public void TheStratifiedHashDependsOnTheStratifiersAndTheYearAnchor()
    {
        var ab = CohortQuery.Parse(Cohort($"[[{Code(Icd, "C50")}],[{Code(Icd, "C61")}]]"));
        var ba = CohortQuery.Parse(Cohort($"[[{Code(Icd, "C61")}],[{Code(Icd, "C50")}]]"));
        Assert.Equal(ab.CanonicalHash, ba.CanonicalHash);
        Assert.Equal(ab.StratifiedHash(["sex"]), ba.StratifiedHash(["sex"]));
        Assert.NotEqual(ab.StratifiedHash(["year"]), ba.StratifiedHash(["year"]));
        Assert.NotEqual(ab.StratifiedHash(["sex"]), ab.StratifiedHash(["age-band"]));
    }
}
