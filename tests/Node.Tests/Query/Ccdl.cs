namespace Midia.Node.Tests.Query;

/// <summary>Short CCDL builders for hand-written cases.</summary>
static class Ccdl
{
    public const string Icd = "http://fhir.de/CodeSystem/bfarm/icd-10-gm";
    public const string IcdOld = "http://fhir.de/CodeSystem/dimdi/icd-10-gm";
    public const string Ops = "http://fhir.de/CodeSystem/bfarm/ops";
    public const string Atc = "http://fhir.de/CodeSystem/bfarm/atc";
    public const string Loinc = "http://loinc.org";
    public const string Snomed = "http://snomed.info/sct";

    public static string Cohort(string inclusion, string exclusion = "[]") =>
        $$"""{"version":"2","display":"test","inclusionCriteria":{{inclusion}},"exclusionCriteria":{{exclusion}}}""";

    /// <summary>One inclusion group with one criterion.</summary>
    public static string Only(string criterion) => Cohort($"[[{criterion}]]");

    public static string Code(string system, string code, string extra = "") =>
        $$"""{"termCodes":[{"system":"{{system}}","code":"{{code}}","display":"x"}]{{extra}}}""";

    public static string Quantity(string comparator, double value, string? unit) =>
        $$""","valueFilter":{"type":"quantity-comparator","comparator":"{{comparator}}","value":{{value.ToString(System.Globalization.CultureInfo.InvariantCulture)}}{{(unit is null ? "" : $$""","unit":{"code":"{{unit}}"}""")}}}""";

    public static string Range(double min, double max, string? unit) =>
        $$""","valueFilter":{"type":"quantity-range","minValue":{{min}},"maxValue":{{max}}{{(unit is null ? "" : $$""","unit":{"code":"{{unit}}"}""")}}}""";

    public static string Concepts(params (string System, string Code)[] concepts) =>
        $$""","valueFilter":{"type":"concept","selectedConcepts":[{{string.Join(",", concepts.Select(c => $$"""{"system":"{{c.System}}","code":"{{c.Code}}"}"""))}}]}""";

    public static string Time(string? after, string? before) =>
        $$""","timeRestriction":{{{string.Join(",", new[] { after is null ? null : $"\"afterDate\":\"{after}\"", before is null ? null : $"\"beforeDate\":\"{before}\"" }.Where(x => x is not null))}}}""";

    public static string Sex(params string[] codes) =>
        Code(Loinc, "LL2191-6", $$""","valueFilter":{"type":"concept","selectedConcepts":[{{string.Join(",", codes.Select(c => $$"""{"code":"{{c}}","system":""}"""))}}]}""");

    public static string Age(string comparator, double years, string unit = "a") => Code(Loinc, "30525-0", Quantity(comparator, years, unit));
}
