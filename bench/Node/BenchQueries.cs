using Midia.Node.Store;

namespace Midia.Bench.Node;

/// <summary>
/// The fixed benchmark questions, each as CCDL and as the best SQL written by hand for the same
/// question on the same file: drive from a selective criterion, probe the others with IN lists
/// (SQLite builds each once as an ephemeral index), demographics from the patient row; code
/// hierarchies as the ranges they are; a relative time restriction as the anchor's first date per
/// patient joined to (or probed for) the dependent facts in the window.
/// </summary>
static class BenchQueries
{
    public static IEnumerable<(string Name, string Ccdl, string Sql)> All(Dictionary<string, long> sids, DateOnly today)
    {
        long icd = sids[CodeSystems.Icd10Gm], ops = sids[CodeSystems.Ops], atc = sids[CodeSystems.Atc], loinc = sids[CodeSystems.Loinc], ms = sids[CodeSystems.MidiaMs];
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
        string InContext(string context, string system, string code, string extra = "") =>
            $$"""{"context":{"system":"fdpg.mii.cds","code":"{{context}}"},"termCodes":[{"system":"{{system}}","code":"{{code}}"}]{{extra}}}""";
        // A day plus whole calendar years or a number of days, as the engine adds them (29 Feb + 1 year = 28 Feb: 'floor').
        string Plus(string day, string modifier) => $"CAST(julianday(date({day} * 86400, 'unixepoch', '{modifier}', 'floor')) - 2440587.5 AS INTEGER)";

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

        // Code hierarchies: an ATC group (its substances, and the MS drugs WHO moved out of it in 2024), ICD and ATC groups.
        yield return ("G35 and an L04AA substance (ATC group, moved MS drugs included)",
            Query($"[[{InContext("Diagnose", CodeSystems.Icd10Gm, "G35")}],[{InContext("Medikamentenverabreichung", CodeSystems.Atc, "L04AA")}]]"),
            $"""
            SELECT COUNT(*) FROM patient p
            WHERE p.pid IN ({Pids($"sid = {atc} AND ((code >= 'L04AA' AND code < 'L04AB') OR code IN ('L04AG08', 'L04AG03', 'L04AG06', 'L04AE01', 'L04AE03', 'L04AK02'))")})
              AND p.pid IN ({Pids(IcdPrefix("G35"))})
            """);

        yield return ("women, malignant neoplasm (ICD group C00-C97), hormone antagonist (ATC L02B)",
            Query($"[[{Sex("F")}],[{InContext("Diagnose", CodeSystems.Icd10Gm, "C00-C97")}],[{InContext("Medikamentenverabreichung", CodeSystems.Atc, "L02B")}]]"),
            $"""
            SELECT COUNT(*) FROM patient p
            WHERE p.pid IN ({Pids($"sid = {atc} AND code >= 'L02B' AND code < 'L02C'")}) AND p.sex = 'female'
              AND p.pid IN ({Pids($"sid = {icd} AND code >= 'C00' AND code < 'C98'")})
            """);

        // CCDL v3 relative time restrictions between criteria.
        yield return ("EDSS >= 6 within 3 years after the first ocrelizumab (relative time)",
            $$"""
            {"version":"3","inclusionCriteria":[[
              {"id":"ocrelizumab","anchorOccurrence":"first","criteria":[[{{InContext("Medikamentenverabreichung", CodeSystems.Atc, "L04AA36")}}]]},
              {"relativeTimeRestrictions":[{"anchorRef":"ocrelizumab","minOffset":"P0D","maxOffset":"P3Y"}],
               "criteria":[[{{InContext("Laboruntersuchung", CodeSystems.MidiaMs, "edss", ""","valueFilter":{"type":"quantity-comparator","comparator":"ge","value":6}""")}}]]}]]}
            """,
            $"""
            WITH anchor AS (SELECT pid, MIN(date) AS first FROM fact WHERE sid = {atc} AND code IN ('L04AA36', 'L04AG08') AND date IS NOT NULL GROUP BY pid)
            SELECT COUNT(*) FROM anchor a
            WHERE a.pid IN (SELECT pid FROM patient)
              AND EXISTS (SELECT 1 FROM fact e WHERE e.sid = {ms} AND e.code = 'edss' AND e.pid = a.pid
                          AND e.date >= a.first AND e.date <= {Plus("a.first", "+3 years")}
                          AND e.value_num >= 6 AND (e.unit IS NULL OR e.unit = ''))
            """);

        yield return ("aromatase inhibitor (ATC L02BG) within a year of the first C50 (relative time, large anchor)",
            $$"""
            {"version":"3","inclusionCriteria":[[
              {"id":"diagnosis","anchorOccurrence":"first","criteria":[[{{InContext("Diagnose", CodeSystems.Icd10Gm, "C50")}}]]},
              {"relativeTimeRestrictions":[{"anchorRef":"diagnosis","minOffset":"P0D","maxOffset":"P1Y"}],
               "criteria":[[{{InContext("Medikamentenverabreichung", CodeSystems.Atc, "L02BG")}}]]}]]}
            """,
            $"""
            SELECT COUNT(DISTINCT m.pid) FROM fact m
            JOIN (SELECT pid, MIN(date) AS first FROM fact WHERE {IcdPrefix("C50")} AND date IS NOT NULL GROUP BY pid) d ON d.pid = m.pid
            WHERE m.sid = {atc} AND m.code >= 'L02BG' AND m.code < 'L02BH' AND m.date >= d.first AND m.date <= {Plus("d.first", "+1 years")}
              AND m.pid IN (SELECT pid FROM patient)
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
