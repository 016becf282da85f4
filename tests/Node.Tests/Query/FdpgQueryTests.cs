using Midia.Node.Query;
using Midia.Node.Store;
using Xunit;
using static Midia.Node.Tests.Query.Ccdl;

namespace Midia.Node.Tests.Query;

/// <summary>
/// Queries as the FDPG portal writes them, on small hand-made sites whose expected counts are
/// written down by hand: the consent criterion, reference filters, CCDL v3 relative time
/// restrictions (the researchers' relapse and EDSS questions), hierarchical codes, contexts, and
/// the FDPG's version strings. Unsupported constructs are refused with their JSON path.
/// </summary>
public sealed class FdpgQueryTests : IDisposable
{
    readonly SiteFile site = new();
    static readonly DateOnly Today = new(2025, 6, 30);

    const string Ms = "https://fhir.midia-hub.de/CodeSystem/ms-assessment";
    const string TumourStatus = "https://fhir.midia-hub.de/CodeSystem/tumour-status";
    const string MiiRoot = "2.16.840.1.113883.3.1937.777.24.5.3";

    public void Dispose() => site.Dispose();

    long Count(string ccdl) => site.Count(ccdl, Today);

    static string Context(string code) => $$""","context":{"system":"fdpg.mii.cds","code":"{{code}}","display":"{{code}}","version":"1.0.0"}""";

    static string WithContext(string context, string system, string code, string extra = "") =>
        $$"""{"termCodes":[{"system":"{{system}}","code":"{{code}}","display":"x"}]{{Context(context)}}{{extra}}}""";

    [Theory]
    [InlineData("2")]
    [InlineData("2.0.0")]
    [InlineData("https://medizininformatik-initiative.de/fdpg/StructuredQuery/v3/schema")]
    [InlineData("http://to_be_decided.com/draft-1/schema#")]
    [InlineData("http://to_be_decided.com/draft-2/schema#")]
    [InlineData("3")]
    public void EveryVersionStringTheFdpgHasSentCountsTheSame(string version)
    {
        site.Fact(site.Patient("female", new DateOnly(1960, 1, 1)), Icd, "C50.4", resourceType: "Condition");
        site.Fact(site.Patient("male", new DateOnly(1960, 1, 1)), Icd, "C61", resourceType: "Condition");
        site.Commit();
        var query = $$"""{"version":"{{version}}","inclusionCriteria":[[{{WithContext("Diagnose", IcdOld, "C50")}}]],"uiProfile":"ignored"}""";
        Assert.Equal(1, Count(query));
        Assert.Equal(CohortQuery.Parse(Only(WithContext("Diagnose", Icd, "C50"))).CanonicalHash, CohortQuery.Parse(query).CanonicalHash);
    }

    [Fact]
    public void TheContextDecidesWhetherASnomedCodeIsReadAsADiagnosisOrAnObservation()
    {
        var diagnosed = site.Patient("female", null);
        site.Fact(diagnosed, Snomed, "24700007", resourceType: "Condition");
        var observed = site.Patient("female", null);
        site.Fact(observed, Snomed, "24700007", concept: (Snomed, "10828004"), resourceType: "Observation");
        site.Commit();
        Assert.Equal(1, Count(Only(WithContext("Diagnose", Snomed, "24700007"))));
        Assert.Equal(1, Count(Only(WithContext("Laboruntersuchung", Snomed, "24700007"))));
        Assert.Equal(2, Count(Only(Code(Snomed, "24700007"))));
        Assert.Equal(0, Count(Only(WithContext("Prozedur", Snomed, "24700007"))));
    }

    [Fact]
    public void CodesStandForEverythingUnderThem()
    {
        var ocrelizumabOld = Woman(); site.Fact(ocrelizumabOld, Atc, "L04AA36", resourceType: "MedicationStatement");
        var ocrelizumabNew = Woman(); site.Fact(ocrelizumabNew, Atc, "L04AG08", resourceType: "MedicationStatement");
        var tamoxifen = Woman(); site.Fact(tamoxifen, Atc, "L02BA01", resourceType: "MedicationStatement");
        var breast = Woman(); site.Fact(breast, Icd, "C50.41", resourceType: "Condition");
        var neoplasm = Woman(); site.Fact(neoplasm, Icd, "D48.1", resourceType: "Condition");
        var ms = Woman(); site.Fact(ms, Icd, "G35.10", resourceType: "Condition");
        var mastectomy = Woman(); site.Fact(mastectomy, Ops, "5-872.1", resourceType: "Procedure");
        var rrms = Woman(); site.Fact(rrms, Snomed, "426373005", resourceType: "Condition");
        site.Commit();

        // ATC: the group finds its substances; ocrelizumab moved from L04AA to L04AG in 2024 and is found under both.
        Assert.Equal(2, Count(Only(Code(Atc, "L04AA"))));
        Assert.Equal(2, Count(Only(Code(Atc, "L04AG"))));
        Assert.Equal(3, Count(Only(Code(Atc, "L"))));
        Assert.Equal(1, Count(Only(Code(Atc, "L02B"))));
        // ICD-10-GM: chapter II (C00-D48) holds the cancers and the D48 neoplasm; the group C00-C97 only the malignant one.
        Assert.Equal(2, Count(Only(Code(Icd, "II"))));
        Assert.Equal(2, Count(Only(Code(Icd, "2"))));
        Assert.Equal(1, Count(Only(Code(Icd, "C00-C97"))));
        Assert.Equal(1, Count(Only(Code(Icd, "G35-G37"))));
        Assert.Equal(1, Count(Only(Code(Icd, "VI"))));
        // OPS: chapter 5 and the group of operations on the breast.
        Assert.Equal(1, Count(Only(Code(Ops, "5-86...5-88"))));
        Assert.Equal(1, Count(Only(Code(Ops, "5"))));
        Assert.Equal(0, Count(Only(Code(Ops, "5-60...5-64"))));
        // SNOMED CT: multiple sclerosis subsumes its relapsing-remitting course.
        Assert.Equal(1, Count(Only(Code(Snomed, "24700007"))));
        Assert.Equal(0, Count(Only(Code(Snomed, "428700003"))));
        // LOINC is as it is.
        Assert.Equal(0, Count(Only(Code(Loinc, "2857"))));
    }

    [Fact]
    public void TheConsentCriterionCountsWhoseMiiPoliciesArePermittedToday()
    {
        var research = Woman();
        site.Provision(research, $"{MiiRoot}.8", permit: true, new DateOnly(2020, 1, 1), new DateOnly(2050, 1, 1));
        var recontact = Woman();
        site.Provision(recontact, $"{MiiRoot}.8", permit: true, null, null);
        foreach (var n in new[] { 37, 26, 27, 28, 29, 30, 31 }) site.Provision(recontact, $"{MiiRoot}.{n}", permit: true, null, null);
        var revoked = Woman();
        site.Provision(revoked, $"{MiiRoot}.8", permit: true, new DateOnly(2020, 1, 1), null);
        site.Provision(revoked, $"{MiiRoot}.8", permit: false, new DateOnly(2024, 5, 1), null);
        var expired = Woman();
        site.Provision(expired, $"{MiiRoot}.8", permit: true, new DateOnly(2015, 1, 1), new DateOnly(2020, 1, 1));
        var central = Woman();
        site.Provision(central, $"{MiiRoot}.8", permit: true, null, null);
        site.Provision(central, $"{MiiRoot}.9", permit: true, null, null);
        Woman(); // no consent at all
        site.Commit();

        string Consent(params string[] codes) =>
            $$"""{"termCodes":[{{string.Join(",", codes.Select(c => $$"""{"system":"fdpg.consent.combined","code":"{{c}}","display":"x"}"""))}}]{{Context("Einwilligung")}}}""";
        Assert.Equal(3, Count(Only(Consent("yes-yes-no-no"))));   // research, recontact, central: .8 permitted today
        Assert.Equal(1, Count(Only(Consent("yes-yes-no-yes"))));  // .8 and every re-contact policy
        Assert.Equal(1, Count(Only(Consent("no-yes-no-no"))));    // central analysis: .9 as well
        Assert.Equal(0, Count(Only(Consent("yes-no-no-no"))));    // non-EU: .49, held by nobody
        Assert.Equal(3, Count(Only(Consent("yes-no-no-no", "yes-yes-no-no")))); // either code
        Assert.Equal(3, Count(Only($$"""{"termCodes":[{"system":"urn:oid:{{MiiRoot}}","code":"{{MiiRoot}}.8"}]{{Context("Einwilligung")}}}""")));
        // In an exclusion: everybody but those who consented.
        Assert.Equal(3, Count(Cohort("[]", $"[[{Consent("yes-yes-no-no")}]]")));
    }

    [Fact]
    public void AReferenceFilterFollowsASpecimenToItsDiagnosis()
    {
        var breast = Woman();
        var c50 = site.Fact(breast, Icd, "C50.4", resourceType: "Condition");
        site.Attribute("Condition", c50, "clinicalstatus", concept: ("http://terminology.hl7.org/CodeSystem/condition-clinical", "active"));
        var s1 = site.Fact(breast, Snomed, "119376003", new DateOnly(2023, 3, 2), resourceType: "Specimen");
        site.Link("Specimen", s1, "festgestelltediagnose", "Condition", c50);
        var other = Woman();
        var g35 = site.Fact(other, Icd, "G35.10", resourceType: "Condition");
        site.Fact(other, Icd, "C50.1", resourceType: "Condition"); // a breast cancer, but not the specimen's diagnosis
        var s2 = site.Fact(other, Snomed, "119364003", resourceType: "Specimen");
        site.Link("Specimen", s2, "festgestelltediagnose", "Condition", g35);
        site.Commit();

        string Specimen(string type, string diagnosis, string attributeName = "festgestellteDiagnose", string nestedExtra = "") =>
            WithContext("Bioprobe", Snomed, type, $$""","attributeFilters":[{"type":"reference","attributeCode":{"code":"{{attributeName}}","system":"http://hl7.org/fhir/StructureDefinition"},"criteria":[{{WithContext("Diagnose", Icd, diagnosis, nestedExtra)}}]}]""");
        Assert.Equal(1, Count(Only(Specimen("123038009", "C50"))));   // any specimen (SNOMED parent) taken for breast cancer
        Assert.Equal(1, Count(Only(Specimen("119376003", "C50", "diagnose")))); // the CCDL example's name for it
        Assert.Equal(0, Count(Only(Specimen("119297000", "C50"))));   // blood specimens: only the other patient's serum, for G35
        Assert.Equal(1, Count(Only(Specimen("119297000", "G35"))));
        Assert.Equal(1, Count(Only(Specimen("123038009", "C50", nestedExtra: ""","attributeFilters":[{"type":"concept","attributeCode":{"code":"clinicalStatus"},"selectedConcepts":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]}]"""))));
        // A reference the data does not carry is refused, not counted as nobody.
        var refusal = Assert.Throws<CcdlException>(() => Count(Only(Specimen("123038009", "C50", "encounter"))));
        Assert.Equal("inclusionCriteria[0][0].attributeFilters[0]", refusal.JsonPath);
        Assert.Contains("festgestelltediagnose", refusal.Message);
    }

    /// <summary>"Breast cancer relapse within 3 years after the start of trastuzumab."</summary>
    static string RelapseWithinThreeYearsOfTrastuzumab(string occurrence = "first") => $$"""
        {"version":"3","display":"relapse within 3 years of trastuzumab","inclusionCriteria":[[
          {"id":"trastuzumab","anchorOccurrence":"{{occurrence}}","criteria":[[{{WithContext("Medikamentenverabreichung", Atc, "L01FD01")}}]]},
          {"id":"relapse","relativeTimeRestrictions":[{"anchorRef":"trastuzumab","minOffset":"P0D","maxOffset":"P3Y"}],
           "criteria":[[{{WithContext("Laboruntersuchung", Snomed, "396432002", $$""","valueFilter":{"type":"concept","selectedConcepts":[{"system":"{{TumourStatus}}","code":"P"}]}""")}}]]}]]}
        """;

    [Fact]
    public void RelapseWithinThreeYearsAfterTheStartOfTrastuzumab()
    {
        void Relapse(long pid, DateOnly day) => site.Fact(pid, Snomed, "396432002", day, concept: (TumourStatus, "P"), resourceType: "Observation");
        void Trastuzumab(long pid, string code, DateOnly start) => site.Fact(pid, Atc, code, start, resourceType: "MedicationStatement", end: start.AddYears(1));
        var within = Woman(); Trastuzumab(within, "L01FD01", new(2020, 1, 10)); Relapse(within, new(2022, 6, 1));
        var oldCode = Woman(); Trastuzumab(oldCode, "L01XC03", new(2019, 5, 1)); Relapse(oldCode, new(2022, 5, 1));      // pre-2022 code, 3 years to the day
        var tooLate = Woman(); Trastuzumab(tooLate, "L01XC03", new(2019, 1, 1)); Relapse(tooLate, new(2023, 2, 1));
        var before = Woman(); Relapse(before, new(2019, 1, 1)); Trastuzumab(before, "L01FD01", new(2020, 1, 1));
        var none = Woman(); Relapse(none, new(2021, 1, 1));
        var twice = Woman(); Trastuzumab(twice, "L01XC03", new(2017, 1, 1)); Trastuzumab(twice, "L01FD01", new(2022, 1, 1)); Relapse(twice, new(2022, 6, 1));
        var stable = Woman(); Trastuzumab(stable, "L01FD01", new(2022, 1, 1));
        site.Fact(stable, Snomed, "396432002", new(2022, 6, 1), concept: (TumourStatus, "K"), resourceType: "Observation");
        site.Commit();

        Assert.Equal(2, Count(RelapseWithinThreeYearsOfTrastuzumab("first"))); // within, oldCode (twice: first start 2017)
        Assert.Equal(3, Count(RelapseWithinThreeYearsOfTrastuzumab("last")));  // within, oldCode, twice
    }

    [Fact]
    public void EdssOfSixOrMoreAfterOcrelizumab()
    {
        void Edss(long pid, DateOnly day, double value) => site.Fact(pid, Ms, "edss", day, value, "{score}", resourceType: "Observation");
        var after = Woman(); site.Fact(after, Atc, "L04AA36", new(2021, 3, 1), resourceType: "MedicationStatement"); Edss(after, new(2020, 1, 1), 3); Edss(after, new(2023, 1, 1), 6.5);
        var newCode = Woman(); site.Fact(newCode, Atc, "L04AG08", new(2024, 2, 1), resourceType: "MedicationStatement"); Edss(newCode, new(2024, 2, 1), 6);
        var onlyBefore = Woman(); site.Fact(onlyBefore, Atc, "L04AA36", new(2021, 3, 1), resourceType: "MedicationStatement"); Edss(onlyBefore, new(2020, 1, 1), 7);
        var low = Woman(); site.Fact(low, Atc, "L04AG08", new(2024, 2, 1), resourceType: "MedicationStatement"); Edss(low, new(2025, 1, 1), 5.5);
        var untreated = Woman(); Edss(untreated, new(2023, 1, 1), 8);
        site.Commit();

        var query = $$"""
            {"version":"3","inclusionCriteria":[[
              {"id":"ocrelizumab","anchorOccurrence":"first","criteria":[[{{WithContext("Medikamentenverabreichung", Atc, "L04AA36")}}]]},
              {"relativeTimeRestrictions":[{"anchorRef":"ocrelizumab","minOffset":"P0D"}],
               "criteria":[[{{WithContext("Laboruntersuchung", Ms, "edss", Quantity("ge", 6, "{score}"))}}]]}]]}
            """;
        Assert.Equal(2, Count(query)); // after, newCode (the same day counts)
        // The same without the window: anyone with ocrelizumab and some EDSS of 6 or more.
        Assert.Equal(3, Count(Cohort($"[[{WithContext("Medikamentenverabreichung", Atc, "L04AG08")}],[{WithContext("Laboruntersuchung", Ms, "edss", Quantity("ge", 6, "{score}"))}]]")));
    }

    [Fact]
    public void WindowsBetweenTwoAnchorsAndRelativeToNowIntersect()
    {
        var between = Woman();
        site.Fact(between, Icd, "C50.4", new(2022, 1, 1), resourceType: "Condition");
        site.Fact(between, Ops, "5-872.1", new(2022, 3, 1), resourceType: "Procedure");
        site.Fact(between, Loinc, "2039-6", new(2022, 2, 1), 5, "ng/mL");
        var outside = Woman();
        site.Fact(outside, Icd, "C50.4", new(2022, 1, 1), resourceType: "Condition");
        site.Fact(outside, Ops, "5-872.1", new(2022, 3, 1), resourceType: "Procedure");
        site.Fact(outside, Loinc, "2039-6", new(2022, 4, 1), 5, "ng/mL");
        site.Commit();
        var query = $$"""
            {"version":"3","inclusionCriteria":[[
              {"id":"diagnosis","anchorOccurrence":"first","criteria":[[{{WithContext("Diagnose", Icd, "C50")}}]]},
              {"id":"surgery","anchorOccurrence":"first","anchorPoint":"end","criteria":[[{{WithContext("Prozedur", Ops, "5-87")}}]]},
              {"id":"now","criteria":[[{"type":"now"}]]},
              {"relativeTimeRestrictions":[{"anchorRef":"diagnosis","minOffset":"P0D"},{"anchorRef":"surgery","maxOffset":"P0D"},{"anchorRef":"now","minOffset":"-P5Y"}],
               "criteria":[[{{WithContext("Laboruntersuchung", Loinc, "2039-6")}}]]}]]}
            """;
        Assert.Equal(1, Count(query));
    }

    [Theory]
    [InlineData(""""{"id":"a","anchorOccurrence":"any","criteria":[[X]]},{"relativeTimeRestrictions":[{"anchorRef":"a","maxOffset":"P1D"}],"criteria":[[X]]}"""",
        "inclusionCriteria[0][0].anchorOccurrence", "any")]
    [InlineData(""""{"id":"a","criteria":[[X]]},{"relativeTimeRestrictions":[{"anchorRef":"a","maxOffset":"P1D"}],"criteria":[[X]]}"""",
        "inclusionCriteria[0][0]", "anchorOccurrence first or last")]
    [InlineData(""""{"id":"a","anchorOccurrence":"first","criteria":[[X]]},{"relativeTimeRestrictions":[{"anchorRef":"a","maxOffset":"PT12H"}],"criteria":[[X]]}"""",
        "inclusionCriteria[0][1].relativeTimeRestrictions[0].maxOffset", "whole number of days")]
    [InlineData(""""{"id":"a","anchorOccurrence":"first","criteria":[[X]]},{"relativeTimeRestrictions":[{"anchorRef":"a","maxOffset":"three days"}],"criteria":[[X]]}"""",
        "inclusionCriteria[0][1].relativeTimeRestrictions[0].maxOffset", "ISO 8601 duration")]
    [InlineData(""""{"relativeTimeRestrictions":[{"anchorRef":"nowhere","maxOffset":"P1D"}],"criteria":[[X]]}"""",
        "inclusionCriteria[0][0].relativeTimeRestrictions[0].anchorRef", "no group has the id")]
    [InlineData(""""{"id":"a","anchorOccurrence":"first","relativeTimeRestrictions":[{"anchorRef":"b","maxOffset":"P1D"}],"criteria":[[X]]},{"id":"b","anchorOccurrence":"first","relativeTimeRestrictions":[{"anchorRef":"a","maxOffset":"P1D"}],"criteria":[[X]]}"""",
        "inclusionCriteria[0][0]", "cycle")]
    [InlineData(""""{"id":"a","anchorOccurrence":"first","criteria":[[X]]},{"relativeTimeRestrictions":[{"anchorRef":"a"}],"criteria":[[X]]}"""",
        "inclusionCriteria[0][1].relativeTimeRestrictions[0]", "minOffset, maxOffset or both")]
    [InlineData(""""{"id":"a","anchorOccurrence":"first","criteria":[[X]]},{"relativeTimeRestrictions":[{"anchorRef":"a","maxOffset":"P1D"}],"criteria":[[SEX]]}"""",
        "inclusionCriteria[0][1].criteria[0][0]", "no date")]
    [InlineData(""""{"id":"a","criteria":[[X]]},{"id":"a","criteria":[[X]]}"""",
        "inclusionCriteria[0][1].id", "used by another group")]
    [InlineData(""""{"id":"n","criteria":[[{"type":"now"},X]]}"""",
        "inclusionCriteria[0][0].criteria[0][0]", "stands alone")]
    [InlineData(""""{"id":"a","criteria":[[{"type":"later"}]]}"""",
        "inclusionCriteria[0][0].criteria[0][0].type", "unknown criterion type")]
    public void UnsupportedOrBrokenV3ConstructsAreRefusedWithTheirPath(string groups, string path, string message)
    {
        var x = WithContext("Diagnose", Icd, "C50");
        var sex = """{"termCodes":[{"system":"http://loinc.org","code":"LL2191-6"}],"valueFilter":{"type":"concept","selectedConcepts":[{"code":"F"}]}}""";
        var json = $$"""{"version":"3","inclusionCriteria":[[{{groups.Replace("SEX", sex).Replace("X", x)}}]]}""";
        var refusal = Assert.Throws<CcdlException>(() => CohortQuery.Parse(json));
        Assert.Equal(path, refusal.JsonPath);
        Assert.Contains(message, refusal.Message);
    }

    [Fact]
    public void ANegatedCriterionHoldsForThePatientsWithoutAMatchingFact()
    {
        var c50 = Woman(); site.Fact(c50, Icd, "C50.4", resourceType: "Condition");
        var both = Woman(); site.Fact(both, Icd, "C50.4", resourceType: "Condition"); site.Fact(both, Ops, "5-872.1", resourceType: "Procedure");
        Woman();
        site.Commit();
        var query = $$"""{"version":"3","inclusionCriteria":[[{{WithContext("Diagnose", Icd, "C50")}}],[{{WithContext("Prozedur", Ops, "5-872", ",\"negated\":true")}}]]}""";
        Assert.Equal(1, Count(query)); // breast cancer without a mastectomy
    }

    long Woman() => site.Patient("female", new DateOnly(1970, 1, 1));
}
