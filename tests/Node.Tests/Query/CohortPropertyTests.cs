using System.Text.Json.Nodes;
using Midia.Node.Query;
using Midia.Node.Store;
using Xunit;

namespace Midia.Node.Tests.Query;

/// <summary>
/// The engine against the brute-force reference on random data and random queries (fixed seeds,
/// so a failure names a query that reproduces). One site file serves all tests of the class.
/// </summary>
public sealed class CohortPropertyTests : IClassFixture<CohortPropertyTests.RandomSiteFixture>
{
    public sealed class RandomSiteFixture : IDisposable
    {
        internal SiteFile Site { get; } = new();
        internal RandomSite Data { get; }
        internal ReferenceEvaluator Reference { get; }

        public RandomSiteFixture()
        {
            Data = RandomSite.Fill(Site, seed: 20261122, patients: 300, consent: true);
            Reference = new ReferenceEvaluator(Data);
        }

        public void Dispose() => Site.Dispose();
    }

    readonly RandomSiteFixture fixture;

    public CohortPropertyTests(RandomSiteFixture fixture) => this.fixture = fixture;

    [Theory]
    [InlineData("Auto")]
    [InlineData("Scan")]
    [InlineData("Probe")]
    public void EngineFindsExactlyTheBruteForcePatientsOnFiveHundredRandomQueries(string strategy)
    {
        fixture.Site.Evaluator.Mode = Enum.Parse<CohortEvaluator.Strategy>(strategy);
        try { CompareOnRandomQueries(); }
        finally { fixture.Site.Evaluator.Mode = CohortEvaluator.Strategy.Auto; }
    }

    void CompareOnRandomQueries()
    {
        var random = new Random(4711);
        int discriminating = 0;
        for (int i = 0; i < 500; i++)
        {
            var json = RandomSite.Query(random, consent: true);
            var today = RandomSite.Todays[i % RandomSite.Todays.Length];
            var expected = fixture.Reference.Evaluate(json, today);
            var actual = fixture.Site.Evaluator.Evaluate(CohortQuery.Parse(json), Days.From(today)).Members().ToHashSet();
            Assert.True(expected.SetEquals(actual),
                $"query #{i} (today {today:yyyy-MM-dd}): brute force {expected.Count}, engine {actual.Count}\n{json}");
            if (expected.Count > 0 && expected.Count < fixture.Data.Patients.Count) discriminating++;
        }
        // The comparison means something only if most queries select a proper, non-empty subset.
        Assert.True(discriminating > 250, $"only {discriminating} of 500 random queries select a proper non-empty subset");
    }

    [Theory]
    [InlineData("Auto")]
    [InlineData("Scan")]
    [InlineData("Probe")]
    public void GroupedQueriesWithRelativeTimeRestrictionsCountWhatTheBruteForceCounts(string strategy)
    {
        fixture.Site.Evaluator.Mode = Enum.Parse<CohortEvaluator.Strategy>(strategy);
        try
        {
            var random = new Random(2027);
            int discriminating = 0, windowed = 0;
            for (int i = 0; i < 300; i++)
            {
                var json = RandomSite.GroupedQuery(random);
                var today = RandomSite.Todays[i % RandomSite.Todays.Length];
                var expected = fixture.Reference.Evaluate(json, today);
                var query = CohortQuery.Parse(json);
                var actual = fixture.Site.Evaluator.Evaluate(query, Days.From(today)).Members().ToHashSet();
                Assert.True(expected.SetEquals(actual), $"grouped query #{i} (today {today:yyyy-MM-dd}): brute force {expected.Count}, engine {actual.Count}\n{json}");
                if (expected.Count > 0 && expected.Count < fixture.Data.Patients.Count) discriminating++;
                if (json.Contains("relativeTimeRestrictions") && expected.Count > 0) windowed++;
                // The canonical form of a grouped query is a grouped query again, with the same patients.
                var again = CohortQuery.Parse(query.CanonicalJson);
                Assert.Equal(query.CanonicalHash, again.CanonicalHash);
                Assert.True(expected.SetEquals(fixture.Site.Evaluator.Evaluate(again, Days.From(today)).Members()), $"grouped query #{i} canonical\n{query.CanonicalJson}");
            }
            Assert.True(discriminating > 100, $"only {discriminating} of 300 grouped queries select a proper non-empty subset");
            Assert.True(windowed > 40, $"only {windowed} windowed queries counted anybody");
        }
        finally { fixture.Site.Evaluator.Mode = CohortEvaluator.Strategy.Auto; }
    }

    [Fact]
    public void CanonicalJsonParsesBackToTheSameHashAndTheSamePatients()
    {
        var random = new Random(815);
        for (int i = 0; i < 200; i++)
        {
            var json = RandomSite.Query(random, consent: true);
            var today = RandomSite.Todays[i % RandomSite.Todays.Length];
            var query = CohortQuery.Parse(json);
            var again = CohortQuery.Parse(query.CanonicalJson);
            Assert.Equal(query.CanonicalJson, again.CanonicalJson);
            Assert.Equal(query.CanonicalHash, again.CanonicalHash);
            var expected = fixture.Reference.Evaluate(json, today);
            Assert.True(expected.SetEquals(fixture.Site.Evaluator.Evaluate(again, Days.From(today)).Members()), $"query #{i}\n{json}\n{query.CanonicalJson}");
        }
    }

    [Fact]
    public void TheSameQuestionWrittenAnotherWayHasTheSameHash()
    {
        var random = new Random(99);
        var hashes = new HashSet<string>();
        for (int i = 0; i < 300; i++)
        {
            var json = RandomSite.Query(random, consent: true);
            var rewritten = QueryRewriter.Rewrite(json, new Random(i));
            var original = CohortQuery.Parse(json);
            Assert.True(original.CanonicalHash == CohortQuery.Parse(rewritten).CanonicalHash, $"query #{i}\n{json}\nrewritten\n{rewritten}");
            hashes.Add(original.CanonicalHash);
        }
        Assert.True(hashes.Count > 250, "random queries should mostly differ, and so should their hashes");
    }

    [Fact]
    public void StratifiedCountsEqualTheBruteForceStrata()
    {
        var random = new Random(31337);
        string[][] stratifiers = [["sex"], ["age-band"], ["year"], ["sex", "age-band"], ["year", "sex"], ["age-band", "year", "sex"], []];
        int checkedYear = 0, refused = 0;
        for (int i = 0; i < 200; i++)
        {
            var json = RandomSite.Query(random, consent: true);
            var by = stratifiers[i % stratifiers.Length];
            var today = RandomSite.Todays[i % RandomSite.Todays.Length];
            var query = CohortQuery.Parse(json);
            var cohort = fixture.Site.Evaluator.Evaluate(query, Days.From(today));

            var node = JsonNode.Parse(json)!;
            var firstGroup = node["inclusionCriteria"] is JsonArray { Count: > 0 } inclusion ? inclusion[0]!.AsArray() : null;
            bool yearImpossible = by.Contains("year") && (firstGroup is null || firstGroup.Any(c => IsPatientLevel(c!)));
            if (yearImpossible)
            {
                Assert.Throws<CcdlException>(() => fixture.Site.Evaluator.Stratify(query, cohort, by, Days.From(today)));
                refused++;
                continue;
            }
            if (by.Contains("year")) checkedYear++;

            var expected = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var pid in fixture.Reference.Evaluate(json, today))
            {
                var patient = fixture.Data.Patients.Single(p => p.Pid == pid);
                var key = string.Join("|", by.Select(s => s switch
                {
                    "sex" => patient.Sex,
                    "age-band" => ReferenceAgeBand(patient.Birth, today),
                    _ => firstGroup!.SelectMany(c => fixture.Reference.FactsMatching(c!.AsObject(), pid))
                            .Where(f => f.Date is not null).Select(f => f.Date!.Value.Year).DefaultIfEmpty(0).Min() is var year and > 0
                        ? year.ToString() : "unknown",
                }));
                expected[key] = expected.GetValueOrDefault(key) + 1;
            }
            var actual = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var stratum in fixture.Site.Evaluator.Stratify(query, cohort, by, Days.From(today)))
            {
                Assert.Equal(by.Length, stratum.Key.Count);
                actual.Add(string.Join("|", stratum.Key), stratum.Count);
            }
            Assert.True(expected.SequenceEqual(actual),
                $"query #{i} by {string.Join(",", by)}: expected {string.Join("; ", expected)} got {string.Join("; ", actual)}\n{json}");
        }
        Assert.True(checkedYear > 30 && refused > 5, $"year checked {checkedYear}, refused {refused}");
    }

    /// <summary>Sex, age, consent or a negated criterion: nothing dated for the year stratifier.</summary>
    static bool IsPatientLevel(JsonNode criterion)
    {
        var code = (string)criterion["termCodes"]![0]!["code"]!;
        var system = (string)criterion["termCodes"]![0]!["system"]!;
        return code is "LL2191-6" or "30525-0" or "424144002" or "263495000" || system is "fdpg.consent.combined" or RandomSite.MiiPolicy
            || criterion["negated"] is JsonNode n && (bool)n!;
    }

    static string ReferenceAgeBand(DateOnly? birth, DateOnly today)
    {
        if (birth is not { } b) return "unknown";
        int age = today.Year - b.Year;
        if (today.Month < b.Month || (today.Month == b.Month && today.Day < b.Day)) age--;
        if (age < 0) return "unknown";
        int low = age - age % 10;
        return $"{low}-{low + 9}";
    }
}

/// <summary>Writes a query differently without changing the question: order, aliases, spellings, duplicates.</summary>
static class QueryRewriter
{
    static readonly Dictionary<string, string> Swaps = new()
    {
        [RandomSite.Icd] = RandomSite.IcdOld, [RandomSite.IcdOld] = RandomSite.Icd,
        [RandomSite.Ops] = RandomSite.OpsOld, [RandomSite.OpsOld] = RandomSite.Ops,
        [RandomSite.Atc] = "http://www.whocc.no/atc", ["http://www.whocc.no/atc"] = "http://fhir.de/CodeSystem/dimdi/atc",
        ["http://fhir.de/CodeSystem/dimdi/atc"] = RandomSite.Atc,
        ["L04AA36"] = "L04AG08", ["L04AG08"] = "L04AA36", ["L04AA23"] = "L04AG03", ["L04AG03"] = "L04AA23",
        ["N07XX09"] = "L04AX07", ["L04AX07"] = "N07XX09", ["L01XC03"] = "L01FD01", ["L01FD01"] = "L01XC03",
        ["F"] = "female", ["female"] = "F", ["M"] = "male", ["male"] = "M", ["D"] = "other",
        ["ng/mL"] = "ng/ml", ["ng/ml"] = "ng/mL", ["ug/L"] = "ug/l", ["ug/l"] = "ug/L", ["g/dL"] = "g/dl", ["mmol/l"] = "mmol/L",
        ["a"] = "year", ["year"] = "a",
        // Context synonyms, the CCDL example's name of the specimen's diagnosis, ICD's "and below".
        ["Prozedur"] = "Procedure", ["Procedure"] = "Prozedur", ["Bioprobe"] = "Specimen", ["Specimen"] = "Bioprobe",
        ["Medikation"] = "Medication", ["diagnose"] = "festgestellteDiagnose", ["festgestellteDiagnose"] = "diagnose",
        ["C50"] = "C50.-", ["yes-yes-no-no"] = "YES-yes-No-no",
    };

    public static string Rewrite(string json, Random random)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        node["display"] = "written differently";
        foreach (var name in new[] { "inclusionCriteria", "exclusionCriteria" })
        {
            if (node[name] is not JsonArray groups) continue;
            var rewritten = new JsonArray();
            foreach (var group in Shuffle(groups, random))
            {
                var criteria = Shuffle(group!.AsArray(), random).Select(c => Criterion(c!.AsObject(), random)).ToList();
                if (random.Next(4) == 0) criteria.Add(criteria[0].DeepClone()); // A or A is A; A and A is A
                rewritten.Add(new JsonArray(Shuffle(criteria, random).ToArray()));
            }
            node[name] = rewritten;
        }
        return node.ToJsonString();
    }

    static JsonNode Criterion(JsonObject criterion, Random random)
    {
        var copy = criterion.DeepClone().AsObject();
        if (copy["context"] is JsonObject context)
        {
            Swap(context, "code", random);
            context["display"] = "written differently";
        }
        if (copy["attributeFilters"] is JsonArray attributeFilters)
            foreach (var attribute in attributeFilters.OfType<JsonObject>())
                if (attribute["type"] is JsonNode t && (string)t! == "reference") Swap(attribute["attributeCode"]!.AsObject(), "code", random);
        var codes = copy["termCodes"]!.AsArray().Select(c => c!.DeepClone().AsObject()).ToList();
        foreach (var code in codes)
        {
            Swap(code, "system", random);
            if (((string)code["system"]!).Contains("atc") || ((string)code["system"]!).Contains("icd-10-gm") || (string)code["system"]! == "fdpg.consent.combined") Swap(code, "code", random);
            if ((string)code["code"]! == "30525-0" && random.Next(2) == 0) { code["system"] = RandomSite.Snomed; code["code"] = "424144002"; }
            else if ((string)code["code"]! == "424144002" && random.Next(2) == 0) { code["system"] = RandomSite.Loinc; code["code"] = "30525-0"; }
            code["display"] = "x";
        }
        copy["termCodes"] = new JsonArray(Shuffle(codes, random).ToArray<JsonNode?>());
        if (copy["valueFilter"] is JsonObject filter)
        {
            if (filter["selectedConcepts"] is JsonArray concepts)
            {
                var list = concepts.Select(c => c!.DeepClone().AsObject()).ToList();
                foreach (var concept in list) Swap(concept, "code", random);
                filter["selectedConcepts"] = new JsonArray(Shuffle(list, random).ToArray<JsonNode?>());
            }
            if (filter["unit"] is JsonObject unit) Swap(unit, "code", random);
        }
        if (copy["timeRestriction"] is JsonObject time)
            foreach (var bound in new[] { "afterDate", "beforeDate" })
                if (time[bound] is JsonNode date && ((string)date!).Length == 10 && random.Next(2) == 0) time[bound] = (string)date! + "T00:00:00";
        return copy;
    }

    static void Swap(JsonObject node, string field, Random random)
    {
        if (random.Next(2) == 0 && node[field] is JsonNode value && Swaps.TryGetValue((string)value!, out var other)) node[field] = other;
    }

    static List<T> Shuffle<T>(IEnumerable<T> items, Random random)
    {
        var list = items.ToList();
        if (list is List<JsonNode?> nodes) list = nodes.Select(n => n?.DeepClone()).Cast<T>().ToList();
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list));
        return list;
    }
}
