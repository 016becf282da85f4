using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Midia.Node.Query;
using Xunit;
using Xunit.Abstractions;
using static Midia.Node.Tests.Hostile.JsonPlaces;

namespace Midia.Node.Tests.Hostile;

/// <summary>
/// Generated hostile CCDL (seeded, so every run tries the same inputs): truncated and mutated
/// JSON, wrong types at every place, huge numbers, invalid UTF-8 and UTF-16, enormous strings,
/// deep nesting. The reader must answer each with a query or a CcdlException naming a JSON path
/// — never another exception, a stack overflow or a hang.
/// </summary>
public sealed class CcdlFuzzTests(ITestOutputHelper output)
{
    static readonly string[] Seeds =
    [
        ExampleWithLabContext(),
        GroupedExample,
        Query.Ccdl.Only(Query.Ccdl.Code(Query.Ccdl.Loinc, "48676-1", Query.Ccdl.Concepts((Query.Ccdl.Snomed, "10828004")))),
        Query.Ccdl.Only(Query.Ccdl.Code(Query.Ccdl.Loinc, "2857-1", Query.Ccdl.Quantity("gt", 4, "ng/mL") + Query.Ccdl.Time("2020-01-01", "2024-12-31"))),
        Query.Ccdl.Cohort($"[[{Query.Ccdl.Age("ge", 18)}],[{Query.Ccdl.Sex("female")}]]", $"[[{Query.Ccdl.Code(Query.Ccdl.Icd, "C50.-", Query.Ccdl.Range(1, 2, null))}]]"),
    ];

    /// <summary>CCDL v3 groups: an anchor and a window relative to it.</summary>
    const string GroupedExample = """
        {"version":"3","inclusionCriteria":[[
          {"id":"ocrelizumab","anchorOccurrence":"first","criteria":[[{"context":{"system":"fdpg.mii.cds","code":"Medikamentenverabreichung"},"termCodes":[{"system":"http://fhir.de/CodeSystem/bfarm/atc","code":"L04AA36"}]}]]},
          {"id":"edss","relativeTimeRestrictions":[{"anchorRef":"ocrelizumab","minOffset":"P0D","maxOffset":"P3Y"}],
           "criteria":[[{"context":{"system":"fdpg.mii.cds","code":"Laboruntersuchung"},"termCodes":[{"system":"https://fhir.midia-hub.de/CodeSystem/ms-assessment","code":"edss"}],
                         "valueFilter":{"type":"quantity-comparator","comparator":"ge","value":6,"unit":{"code":"{score}"}}}]]}]]}
        """;

    /// <summary>The reference example, its reference filter kept, its body temperature read as a lab value (context Patient holds sex and age only).</summary>
    static string ExampleWithLabContext()
    {
        var node = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Query", "ccdl-example.json")))!;
        node["exclusionCriteria"]![2]![1]!["context"]!["code"] = "Laboruntersuchung";
        return node.ToJsonString();
    }

    /// <summary>Values that are wrong almost anywhere in a CCDL document.</summary>
    static readonly Func<Random, JsonNode?>[] HostileValues =
    [
        _ => null,
        _ => JsonValue.Create(true),
        r => JsonValue.Create(r.Next()),
        _ => JsonValue.Create(-0.0),
        _ => JsonNode.Parse("1e400"),
        _ => JsonNode.Parse("-1e400"),
        _ => JsonNode.Parse("123456789012345678901234567890123456789012345678901234567890"),
        _ => JsonNode.Parse("4.9e-330"),
        _ => JsonValue.Create(""),
        _ => JsonValue.Create("   "),
        r => JsonValue.Create(new string((char)r.Next(0x20, 0x7F), r.Next(1, 200_000))),
        _ => JsonValue.Create("\u0000\u001f\uffff\ud83d\ude00"),
        _ => new JsonArray(),
        _ => new JsonObject(),
        _ => new JsonArray(new JsonArray()),
        _ => JsonNode.Parse("""{"type":"reference"}"""),
        _ => JsonNode.Parse("""{"type":"quantity-range","minValue":5,"maxValue":1}"""),
        _ => JsonNode.Parse("""{"afterDate":"2030-01-01","beforeDate":"1999-13-45"}"""),
        _ => JsonValue.Create("9999-99-99T99:99"),
    ];

    static readonly string[] FieldNames =
        ["version", "display", "inclusionCriteria", "exclusionCriteria", "termCodes", "valueFilter", "attributeFilters", "timeRestriction",
         "context", "system", "code", "type", "comparator", "value", "unit", "minValue", "maxValue", "selectedConcepts", "attributeCode", "afterDate", "beforeDate", "__proto__",
         "negated", "criteria", "id", "relativeTimeRestrictions", "anchorRef", "minOffset", "maxOffset", "anchorOccurrence", "anchorPoint"];

    /// <summary>One hostile input: a kind (for the tally) and the text.</summary>
    static IEnumerable<(string Kind, string Json)> Inputs(int seed, int count)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var seedText = Seeds[random.Next(Seeds.Length)];
            switch (random.Next(12))
            {
                case 0:
                    yield return ("truncated", seedText[..random.Next(0, seedText.Length)]);
                    break;
                case 1:
                {
                    // A few characters deleted, duplicated or replaced by JSON punctuation.
                    var text = new StringBuilder(seedText);
                    for (var k = random.Next(1, 6); k > 0 && text.Length > 1; k--)
                    {
                        var at = random.Next(text.Length);
                        switch (random.Next(3))
                        {
                            case 0: text.Remove(at, 1); break;
                            case 1: text.Insert(at, text[at]); break;
                            default: text[at] = "{}[]\":,-.0eE\\"[random.Next(13)]; break;
                        }
                    }
                    yield return ("mutated characters", text.ToString());
                    break;
                }
                case 2:
                case 3:
                case 4:
                {
                    var root = JsonNode.Parse(seedText)!;
                    var (parent, key) = RandomPlace(random, root);
                    var value = HostileValues[random.Next(HostileValues.Length)](random);
                    if (parent is null) root = value ?? JsonValue.Create(0);
                    else Set(parent, key, value);
                    yield return ("wrong type or value", root.ToJsonString());
                    break;
                }
                case 5:
                {
                    var root = JsonNode.Parse(seedText)!;
                    var (parent, _) = RandomPlace(random, root);
                    if (parent is JsonObject o) o[FieldNames[random.Next(FieldNames.Length)] + (random.Next(4) == 0 ? "x" : "")] = HostileValues[random.Next(HostileValues.Length)](random);
                    else if (parent is JsonArray a) a.Add(HostileValues[random.Next(HostileValues.Length)](random));
                    yield return ("extra field or element", root.ToJsonString());
                    break;
                }
                case 6:
                {
                    // Deep nesting where a value is expected, far beyond any sane document.
                    var depth = random.Next(2) == 0 ? random.Next(60, 70) : 100_000;
                    var open = random.Next(2) == 0 ? "[" : "{\"a\":";
                    var close = open == "[" ? "]" : "}";
                    var nested = string.Concat(Enumerable.Repeat(open, depth)) + (random.Next(3) == 0 ? "" : string.Concat(Enumerable.Repeat(close, depth)));
                    yield return ($"nesting {(depth > 1000 ? "100,000" : "60-70")} levels", $$"""{"version":"2","inclusionCriteria":{{nested}}}""");
                    break;
                }
                case 7:
                {
                    // Invalid UTF-8 decoded the lenient way (U+FFFD) and lone surrogates that cannot be UTF-8 at all.
                    var text = new StringBuilder(seedText);
                    for (var k = random.Next(1, 4); k > 0; k--)
                    {
                        var at = random.Next(text.Length);
                        text.Insert(at, random.Next(3) switch
                        {
                            0 => ((char)random.Next(0xD800, 0xE000)).ToString(),
                            1 => Encoding.UTF8.GetString([(byte)random.Next(0x80, 0x100), (byte)random.Next(0x00, 0x100)]),
                            _ => "\\ud800",
                        });
                    }
                    yield return ("invalid UTF-8 / UTF-16", text.ToString());
                    break;
                }
                case 8:
                {
                    var number = random.Next(4) switch
                    {
                        0 => "1" + new string('0', random.Next(300, 5000)),
                        1 => "-1e" + random.Next(300, 100_000),
                        2 => "0." + new string('0', random.Next(300, 5000)) + "1",
                        _ => new string('9', random.Next(20, 400)) + ".5e-" + random.Next(0, 400),
                    };
                    var comparator = random.Next(2) == 0 ? "gt" : "le";
                    var age = random.Next(2) == 0;
                    yield return ("huge or tiny number", Query.Ccdl.Only(
                        "{\"termCodes\":[{\"system\":\"http://loinc.org\",\"code\":\"" + (age ? "30525-0" : "2857-1") + "\"}],\"valueFilter\":{\"type\":\"quantity-comparator\",\"comparator\":\"" + comparator + "\",\"value\":" + number + ",\"unit\":{\"code\":\"" + (age ? "a" : "ng/mL") + "\"}}}"));
                    break;
                }
                case 9:
                {
                    var length = random.Next(20) != 0 ? random.Next(1, 10_000) : 1_000_000;
                    var big = new string((char)random.Next('a', 'z' + 1), length);
                    yield return ("enormous string", random.Next(3) switch
                    {
                        0 => Query.Ccdl.Only(Query.Ccdl.Code(Query.Ccdl.Icd, big)),
                        1 => $$"""{"version":"2","display":"{{big}}","inclusionCriteria":[[{{Query.Ccdl.Code(Query.Ccdl.Icd, "C50")}}]]}""",
                        _ => $$"""{"version":"2","{{big}}":1}""",
                    });
                    break;
                }
                case 10:
                {
                    // Many elements: wide arrays of criteria and codes.
                    var width = random.Next(50, 500);
                    var codes = string.Join(",", Enumerable.Range(0, width).Select(n => $$"""{"system":"{{Query.Ccdl.Icd}}","code":"C{{n % 100:00}}.{{n}}"}"""));
                    yield return ("wide arrays", Query.Ccdl.Only($$"""{"termCodes":[{{codes}}]}"""));
                    break;
                }
                default:
                {
                    var bytes = new byte[random.Next(0, 300)];
                    random.NextBytes(bytes);
                    yield return ("random bytes", Encoding.Latin1.GetString(bytes));
                    break;
                }
            }
        }
    }

    [Fact]
    public void EveryHostileCcdlInputIsAQueryOrARefusalWithAJsonPath()
    {
        const int count = 6000;
        var tally = new SortedDictionary<string, (int Parsed, int Refused)>(StringComparer.Ordinal);
        var spent = new Dictionary<string, TimeSpan>();
        var clock = Stopwatch.StartNew();
        foreach (var (kind, json) in Inputs(seed: 8_2026, count))
        {
            var (parsed, refused) = tally.GetValueOrDefault(kind);
            var started = clock.Elapsed;
            try
            {
                CohortQuery.Parse(json);
                parsed++;
            }
            catch (CcdlException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.JsonPath), $"{kind}: refusal without a JSON path: {e.Message}");
                Assert.False(string.IsNullOrWhiteSpace(e.Reason), kind);
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{kind}: {e.GetType().Name}: {e.Message}\ninput (first 300 chars): {json[..Math.Min(json.Length, 300)]}");
            }
            tally[kind] = (parsed, refused);
            spent[kind] = spent.GetValueOrDefault(kind) + (clock.Elapsed - started);
        }
        output.WriteLine($"{count} hostile CCDL inputs in {clock.Elapsed.TotalSeconds:N1} s:");
        foreach (var (kind, (parsed, refused)) in tally) output.WriteLine($"  {kind}: {parsed + refused} ({refused} refused, {parsed} parsed; {spent[kind].TotalSeconds:N1} s)");
        Assert.Equal(count, tally.Values.Sum(t => t.Parsed + t.Refused));
        // Every mutation family reached the reader.
        Assert.Equal(11, tally.Count);
        Assert.True(tally.Values.Sum(t => t.Parsed) > 0, "no input survived: the mutations never reach the deeper checks");
    }

    [Theory]
    [InlineData("1e400", "inclusionCriteria[0][0].valueFilter.value")]
    [InlineData("-1e400", "inclusionCriteria[0][0].valueFilter.value")]
    public void ANumberBeyondDoubleIsRefusedAtItsPath(string number, string path)
    {
        var json = Query.Ccdl.Only($$$"""{"termCodes":[{"system":"http://loinc.org","code":"2857-1"}],"valueFilter":{"type":"quantity-comparator","comparator":"gt","value":{{{number}}}}}""");
        var refusal = Assert.Throws<CcdlException>(() => CohortQuery.Parse(json));
        Assert.Equal(path, refusal.JsonPath);
    }

    [Fact]
    public void HundredThousandLevelsOfNestingAreRefusedWithAPosition()
    {
        var json = """{"version":"2","inclusionCriteria":""" + new string('[', 100_000) + new string(']', 100_000) + "}";
        var refusal = Assert.Throws<CcdlException>(() => CohortQuery.Parse(json));
        Assert.Equal("$", refusal.JsonPath);
        Assert.Contains("line 1, byte", refusal.Message);
        Assert.Contains("depth", refusal.Message);
    }

    [Fact]
    public void ALoneSurrogateIsRefusedAsNotValidJsonText()
    {
        var json = Query.Ccdl.Only(Query.Ccdl.Code(Query.Ccdl.Icd, "C50\ud800"));
        var refusal = Assert.Throws<CcdlException>(() => CohortQuery.Parse(json));
        Assert.Equal("$", refusal.JsonPath);
    }
}
