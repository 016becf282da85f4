using Midia.Node.Store;

namespace Midia.Bench.Node;

/// <summary>
/// The fixed benchmark questions, each as CCDL and as the best SQL written by hand for the same
/// question on the same file: drive from a selective criterion, probe the others with IN lists
/// (SQLite builds each once as an ephemeral index), demographics from the patient row.
/// </summary>
static class BenchQueries
{
    public static IEnumerable<(string Name, string Ccdl, string Sql)> All(Dictionary<string, long> sids, DateOnly today)
    {
        long icd = sids[CodeSystems.Icd10Gm], ops = sids[CodeSystems.Ops], atc = sids[CodeSystems.Atc], loinc = sids[CodeSystems.Loinc];
        // Completed age >= n exactly when born on or before today minus n years.
        int BornBy(int years) => Days.From(today.AddYears(-years));
        string Icd(string code) => $$"""{"termCodes":[{"system":"http://fhir.de/CodeSystem/dimdi/icd-10-gm","code":"{{code}}"}]}""";
        string IcdPrefix(string code) => $"sid = {icd} AND code >= '{code}' AND code < '{code[..^1]}{(char)(code[^1] + 1)}'";
        string Ops(string code) => $$"""{"termCodes":[{"system":"http://fhir.de/CodeSystem/bfarm/ops","code":"{{code}}"}]}""";
        string OpsPrefix(string code) => $"sid = {ops} AND code >= '{code}' AND code < '{code[..^1]}{(char)(code[^1] + 1)}'";
        string Atc(params string[] codes) => $$"""{"termCodes":[{{string.Join(",", codes.Select(c => $$"""{"system":"http://fhir.de/CodeSystem/bfarm/atc","code":"{{c}}"}"""))}}]}""";
        string Sex(string code) => $$$"""{"termCodes":[{"system":"http://loinc.org","code":"LL2191-6"}],"valueFilter":{"type":"concept","selectedConcepts":[{"system":"","code":"{{{code}}}"}]}}""";
        string Age(string filter) => $$"""{"termCodes":[{"system":"http://loinc.org","code":"30525-0"}],"valueFilter":{{filter}}}""";
        string Answer(string loincCode, string answer) => $$$"""{"termCodes":[{"system":"http://loinc.org","code":"{{{loincCode}}}"}],"valueFilter":{"type":"concept","selectedConcepts":[{"system":"http://loinc.org","code":"{{{answer}}}"}]}}""";
        string Lab(string loincCode, string filter, string extra = "") => $$"""{"termCodes":[{"system":"http://loinc.org","code":"{{loincCode}}"}],"valueFilter":{{filter}}{{extra}}}""";
        string Query(string inclusion, string exclusion = "[]") => $$"""{"version":"2","inclusionCriteria":{{inclusion}},"exclusionCriteria":{{exclusion}}}""";
        string Pids(string where) => $"SELECT pid FROM fact WHERE {where}";

        yield return ("women > 50, C50, HER2+, trastuzumab (old or new code)",
            Query($"[[{Sex("F")}],[{Age("""{"type":"quantity-comparator","comparator":"gt","value":50,"unit":{"code":"a"}}""")}],[{Icd("C50")}],[{Answer("48676-1", "LA6576-8")}],[{Atc("L01FD01")}]]"),
            $"""
            SELECT COUNT(*) FROM patient p
            WHERE p.pid IN ({Pids($"sid = {atc} AND code IN ('L01FD01', 'L01XC03')")})
              AND p.sex = 'female' AND p.birth_date <= {BornBy(51)}
              AND p.pid IN ({Pids($"sid = {loinc} AND code = '48676-1' AND value_sid = {loinc} AND value_code = 'LA6576-8'")})
              AND p.pid IN ({Pids(IcdPrefix("C50"))})
            """);

        yield return ("men, C61, PSA > 4 ng/mL",
            Query($"[[{Sex("M")}],[{Icd("C61")}],[{Lab("2857-1", """{"type":"quantity-comparator","comparator":"gt","value":4,"unit":{"code":"ng/mL"}}""")}]]"),
            $"""
            SELECT COUNT(*) FROM patient p
            WHERE p.pid IN ({Pids(IcdPrefix("C61"))}) AND p.sex = 'male'
              AND p.pid IN ({Pids($"sid = {loinc} AND code = '2857-1' AND unit IN ('ng/mL', 'ng/ml') AND value_num > 4")})
            """);

        yield return ("G35 and ocrelizumab (old or new code)",
            Query($"[[{Icd("G35")}],[{Atc("L04AA36")}]]"),
            $"""
            SELECT COUNT(*) FROM patient p
            WHERE p.pid IN ({Pids($"sid = {atc} AND code IN ('L04AA36', 'L04AG08')")})
              AND p.pid IN ({Pids(IcdPrefix("G35"))})
            """);

        yield return ("C50 diagnosed in 2020",
            Query("""[[{"termCodes":[{"system":"http://fhir.de/CodeSystem/bfarm/icd-10-gm","code":"C50"}],"timeRestriction":{"afterDate":"2020-01-01","beforeDate":"2020-12-31"}}]]"""),
            $"SELECT COUNT(DISTINCT pid) FROM fact WHERE {IcdPrefix("C50")} AND date BETWEEN {Days.From(new DateOnly(2020, 1, 1))} AND {Days.From(new DateOnly(2020, 12, 31))}");

        yield return ("C50, ER+, letrozole or anastrozole, no mastectomy",
            Query($"[[{Icd("C50")}],[{Answer("16112-5", "LA6576-8")}],[{Atc("L02BG04", "L02BG03")}]]", $"[[{Ops("5-872")}]]"),
            $"""
            SELECT COUNT(*) FROM patient p
            WHERE p.pid IN ({Pids($"sid = {atc} AND code IN ('L02BG04', 'L02BG03')")})
              AND p.pid IN ({Pids($"sid = {loinc} AND code = '16112-5' AND value_sid = {loinc} AND value_code = 'LA6576-8'")})
              AND p.pid IN ({Pids(IcdPrefix("C50"))})
              AND p.pid NOT IN ({Pids(OpsPrefix("5-872"))})
            """);

        yield return ("men 60-75, C61, prostatectomy 5-604, radiotherapy 8-52",
            Query($"[[{Sex("male")}],[{Age("""{"type":"quantity-range","minValue":60,"maxValue":75,"unit":{"code":"year"}}""")}],[{Icd("C61")}],[{Ops("5-604")}],[{Ops("8-52")}]]"),
            $"""
            SELECT COUNT(*) FROM patient p
            WHERE p.pid IN ({Pids(OpsPrefix("5-604"))})
              AND p.sex = 'male' AND p.birth_date <= {BornBy(60)} AND p.birth_date > {BornBy(76)}
              AND p.pid IN ({Pids(IcdPrefix("C61"))})
              AND p.pid IN ({Pids(OpsPrefix("8-52"))})
            """);

        yield return ("E11 and I10, age >= 65 (large sets)",
            Query($"[[{Icd("E11")}],[{Icd("I10")}],[{Age("""{"type":"quantity-comparator","comparator":"ge","value":65,"unit":{"code":"a"}}""")}]]"),
            $"""
            SELECT COUNT(*) FROM patient p
            WHERE p.pid IN ({Pids(IcdPrefix("E11"))}) AND p.birth_date <= {BornBy(65)}
              AND p.pid IN ({Pids(IcdPrefix("I10"))})
            """);

        yield return ("G35, natalizumab or fingolimod, never alemtuzumab",
            Query($"[[{Icd("G35")}],[{Atc("L04AA23", "L04AE01")}]]", $"[[{Atc("L04AG06")}]]"),
            $"""
            SELECT COUNT(*) FROM patient p
            WHERE p.pid IN ({Pids($"sid = {atc} AND code IN ('L04AA23', 'L04AG03', 'L04AA27', 'L04AE01')")})
              AND p.pid IN ({Pids(IcdPrefix("G35"))})
              AND p.pid NOT IN ({Pids($"sid = {atc} AND code IN ('L04AA34', 'L04AG06')")})
            """);

        yield return ("women, Hb < 10 g/dL in 2022",
            Query($$"""[[{{Sex("F")}}],[{{Lab("718-7", """{"type":"quantity-comparator","comparator":"lt","value":10,"unit":{"code":"g/dL"}}""", ""","timeRestriction":{"afterDate":"2022-01-01","beforeDate":"2022-12-31"}""")}}]]"""),
            $"""
            SELECT COUNT(*) FROM patient p
            WHERE p.pid IN ({Pids($"sid = {loinc} AND code = '718-7' AND unit IN ('g/dL', 'g/dl') AND value_num < 10 AND date BETWEEN {Days.From(new DateOnly(2022, 1, 1))} AND {Days.From(new DateOnly(2022, 12, 31))}")})
              AND p.sex = 'female'
            """);

        yield return ("C50 or D05, radiotherapy 8-52, tamoxifen",
            Query($"[[{Icd("C50")},{Icd("D05")}],[{Ops("8-52")}],[{Atc("L02BA01")}]]"),
            $"""
            SELECT COUNT(*) FROM patient p
            WHERE p.pid IN ({Pids($"sid = {atc} AND code = 'L02BA01'")})
              AND p.pid IN ({Pids(OpsPrefix("8-52"))})
              AND p.pid IN ({Pids(IcdPrefix("C50"))} UNION ALL {Pids(IcdPrefix("D05"))})
            """);

        yield return ("PSA 4-10 ng/mL, no C61",
            Query($"[[{Lab("2857-1", """{"type":"quantity-range","minValue":4,"maxValue":10,"unit":{"code":"ng/mL"}}""")}]]", $"[[{Icd("C61")}]]"),
            $"""
            SELECT COUNT(*) FROM patient p
            WHERE p.pid IN ({Pids($"sid = {loinc} AND code = '2857-1' AND unit IN ('ng/mL', 'ng/ml') AND value_num BETWEEN 4 AND 10")})
              AND p.pid NOT IN ({Pids(IcdPrefix("C61"))})
            """);

        yield return ("I10 without E11 (large sets)",
            Query($"[[{Icd("I10")}]]", $"[[{Icd("E11")}]]"),
            $"""
            SELECT COUNT(*) FROM patient p
            WHERE p.pid IN ({Pids(IcdPrefix("I10"))})
              AND p.pid NOT IN ({Pids(IcdPrefix("E11"))})
            """);
    }
}
