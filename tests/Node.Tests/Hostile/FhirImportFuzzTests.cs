using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Midia.Node.Import;
using Midia.Node.Tests.Import;
using Xunit;
using Xunit.Abstractions;
using static Midia.Node.Tests.Hostile.JsonPlaces;

namespace Midia.Node.Tests.Hostile;

/// <summary>
/// Generated hostile FHIR exports (seeded): truncated and mutated resources, wrong types at every
/// place, invalid UTF-8 bytes, deep nesting, huge numbers and strings, broken Bundles, and a 100 MB
/// line. The importer must report each problem with file:line (or its JSON path in a Bundle),
/// apply nothing of a file with a problem, and never crash or buffer an unbounded line.
/// </summary>
public sealed class FhirImportFuzzTests(ITestOutputHelper output) : IDisposable
{
    readonly SiteFixture site = new();

    public void Dispose() => site.Dispose();

    static readonly string[] Seeds =
    [
        .. Fixtures.Patients, Fixtures.ConditionC1, Fixtures.ConditionC2, Fixtures.ConditionC3, .. Fixtures.Observations,
        Fixtures.StatementCoded, Fixtures.StatementContained, Fixtures.StatementAsserted, Fixtures.Administration,
        Fixtures.ProcedurePeriod, Fixtures.ProcedureDateTime, Fixtures.Imaging, Fixtures.ConsentActive, Fixtures.ConsentInactive,
    ];

    static readonly Func<Random, JsonNode?>[] HostileValues =
    [
        _ => null,
        _ => JsonValue.Create(false),
        r => JsonValue.Create(r.Next(int.MinValue, int.MaxValue)),
        _ => JsonNode.Parse("1e400"),
        _ => JsonNode.Parse("-123456789012345678901234567890.5e300"),
        _ => JsonNode.Parse("18446744073709551616"),
        _ => JsonValue.Create(""),
        _ => JsonValue.Create("Patient/"),
        _ => JsonValue.Create("urn:uuid:"),
        _ => JsonValue.Create("2021-02-30T25:61:61+99:00"),
        _ => JsonValue.Create("-0001-01-01"),
        r => JsonValue.Create(new string('x', r.Next(1, 100_000))),
        _ => JsonValue.Create("\u0000\ud83d\ude00\uffff"),
        _ => new JsonArray(),
        _ => new JsonObject(),
        _ => new JsonArray(JsonValue.Create(1), new JsonObject(), null),
        _ => JsonNode.Parse("""{"reference":"Patient/nobody"}"""),
        _ => JsonNode.Parse("""{"coding":[{"system":1,"code":[]}]}"""),
        _ => JsonNode.Parse("""{"value":"4.2","code":7}"""),
    ];

    static readonly string[] FieldNames =
        ["resourceType", "id", "subject", "patient", "code", "coding", "valueQuantity", "valueCodeableConcept", "effectiveDateTime", "onsetDateTime",
         "birthDate", "gender", "status", "provision", "period", "medicationCodeableConcept", "performedPeriod", "started", "series", "extension"];

    static readonly byte[][] InvalidUtf8 = [[0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xC0, 0xAF], [0x80]];

    /// <summary>One hostile resource as the bytes of one NDJSON line (no newline in it).</summary>
    static (string Kind, byte[] Line) HostileResource(Random random)
    {
        var seed = Seeds[random.Next(Seeds.Length)].ReplaceLineEndings(" ");
        switch (random.Next(10))
        {
            case 0:
                return ("truncated", Encoding.UTF8.GetBytes(seed[..random.Next(0, seed.Length)]));
            case 1:
            {
                var text = new StringBuilder(seed);
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
                return ("mutated characters", Encoding.UTF8.GetBytes(text.ToString()));
            }
            case 2:
            case 3:
            case 4:
            {
                var root = JsonNode.Parse(seed)!;
                var (parent, key) = RandomPlace(random, root);
                var value = HostileValues[random.Next(HostileValues.Length)](random);
                if (parent is null) root = value ?? JsonValue.Create(0);
                else Set(parent, key, value);
                return ("wrong type or value", Encoding.UTF8.GetBytes(root.ToJsonString()));
            }
            case 5:
            {
                var root = JsonNode.Parse(seed)!;
                var (parent, _) = RandomPlace(random, root);
                if (parent is JsonObject o) o[FieldNames[random.Next(FieldNames.Length)]] = HostileValues[random.Next(HostileValues.Length)](random);
                else if (parent is JsonArray a) a.Add(HostileValues[random.Next(HostileValues.Length)](random));
                return ("extra or replaced field", Encoding.UTF8.GetBytes(root.ToJsonString()));
            }
            case 6:
            {
                // Raw invalid UTF-8 inside a string value (just after a quote) or between tokens.
                var bytes = Encoding.UTF8.GetBytes(seed).ToList();
                var quotes = Enumerable.Range(0, bytes.Count).Where(i => bytes[i] == '"').ToList();
                for (var k = random.Next(1, 3); k > 0; k--)
                    bytes.InsertRange(random.Next(2) == 0 ? quotes[random.Next(quotes.Count)] + 1 : random.Next(bytes.Count), InvalidUtf8[random.Next(InvalidUtf8.Length)]);
                return ("invalid UTF-8", [.. bytes]);
            }
            case 7:
            {
                var depth = random.Next(2) == 0 ? random.Next(60, 70) : 100_000;
                var root = JsonNode.Parse(seed)!.AsObject();
                var nested = string.Concat(Enumerable.Repeat("[", depth)) + string.Concat(Enumerable.Repeat("]", depth));
                var json = root.ToJsonString();
                return ("deep nesting", Encoding.UTF8.GetBytes(json[..^1] + ",\"extension\":" + nested + "}"));
            }
            case 8:
            {
                var root = JsonNode.Parse(seed)!;
                var (parent, key) = RandomPlace(random, root);
                JsonNode value = random.Next(3) switch
                {
                    0 => JsonNode.Parse("1" + new string('0', random.Next(300, 3000)))!,
                    1 => JsonNode.Parse("-9." + new string('9', random.Next(20, 2000)) + "e-" + random.Next(300, 400))!,
                    _ => JsonValue.Create(new string('\u00e4', random.Next(10_000, 50_000))),
                };
                if (parent is not null) Set(parent, key, value);
                return ("huge number or string", Encoding.UTF8.GetBytes(root.ToJsonString()));
            }
            default:
            {
                var bytes = new byte[random.Next(1, 300)];
                random.NextBytes(bytes);
                for (var i = 0; i < bytes.Length; i++) if (bytes[i] == '\n') bytes[i] = (byte)' ';
                return ("random bytes", bytes);
            }
        }
    }

    void ImportBasePatients()
    {
        site.WriteNdjson("Patient.ndjson", Fixtures.Patients);
        Assert.True(site.Import(Path.Combine(site.Dir, "Patient.ndjson")).Applied);
    }

    static void AssertWellFormed(ImportReport report, string path, int lines)
    {
        foreach (var problem in report.Problems)
        {
            Assert.Equal(path, problem.File);
            // NDJSON names the line; a JSON file names the JSON path, or the line of a syntax error.
            if (lines > 0) Assert.InRange(problem.Line, 1, lines);
            else Assert.True(problem.Line >= 0);
            Assert.False(string.IsNullOrWhiteSpace(problem.Message));
        }
    }

    [Fact]
    public void EveryHostileNdjsonLineIsReportedWithFileAndLineAndNothingOfItsFileIsApplied()
    {
        ImportBasePatients();
        const int files = 200, perFile = 25;
        var random = new Random(8_0001);
        var tally = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int rejected = 0, applied = 0, problems = 0;
        var clock = Stopwatch.StartNew();
        var importing = new Stopwatch();
        // One importer for all files, as `midia-node import` uses one for all its files.
        using var db = Midia.Node.Store.SiteDatabase.Open(site.DbPath);
        using var importer = new FhirImporter(db);
        for (var f = 0; f < files; f++)
        {
            var lines = new List<(string Kind, byte[] Line)>();
            for (var i = 0; i < perFile; i++) lines.Add(HostileResource(random));
            // A good resource after the hostile ones: a broken line must not swallow the next.
            lines.Add(("valid", Encoding.UTF8.GetBytes(Fixtures.ConditionC2.ReplaceLineEndings(" "))));
            foreach (var (kind, _) in lines.SkipLast(1)) tally[kind] = tally.GetValueOrDefault(kind) + 1;
            var path = Path.Combine(site.Dir, $"hostile-{f}.ndjson");
            File.WriteAllBytes(path, [.. lines.SelectMany(l => l.Line.Append((byte)'\n'))]);
            var before = f % 10 == 0 ? site.Dump() : null;
            ImportReport report;
            importing.Start();
            try { report = importer.ImportFile(path); }
            catch (Exception e)
            {
                Assert.Fail($"file {f}: {e.GetType().Name}: {e.Message}\n" + Culprit(lines));
                throw;
            }
            importing.Stop();
            AssertWellFormed(report, path, lines.Count);
            if (report.Applied) applied++;
            else
            {
                rejected++;
                problems += report.Problems.Count;
                Assert.Equal(0, report.Resources);
                if (before is not null) Assert.Equal(before, site.Dump());
            }
            File.Delete(path);
        }
        output.WriteLine($"{files * perFile} hostile NDJSON resources in {files} files ({clock.Elapsed.TotalSeconds:N1} s, {importing.Elapsed.TotalSeconds:N1} s of it importing): {rejected} files rejected with {problems} problems, {applied} applied");
        foreach (var (kind, n) in tally) output.WriteLine($"  {kind}: {n}");
        Assert.Equal(8, tally.Count);
        Assert.True(rejected > files * 9 / 10, $"only {rejected} of {files} files rejected: the mutations are too mild");
    }

    /// <summary>After a crash: which single line of the file crashes on its own.</summary>
    string Culprit(List<(string Kind, byte[] Line)> lines)
    {
        foreach (var (kind, line) in lines)
        {
            var path = Path.Combine(site.Dir, "culprit.ndjson");
            File.WriteAllBytes(path, [.. line, (byte)'\n']);
            try { site.Import(path); }
            catch (Exception e) { return $"{kind}: {e}\nline: {Encoding.UTF8.GetString(line[..Math.Min(line.Length, 400)])}"; }
        }
        return "no single line crashes alone";
    }

    [Fact]
    public void EveryHostileBundleIsReportedWithItsEntryPathAndAppliedNotAtAll()
    {
        ImportBasePatients();
        const int files = 200;
        var random = new Random(8_0002);
        int rejected = 0, entries = 0;
        for (var f = 0; f < files; f++)
        {
            var bundle = new JsonObject { ["resourceType"] = "Bundle", ["type"] = "collection" };
            var list = new JsonArray();
            for (var i = random.Next(1, 8); i > 0; i--, entries++)
            {
                var (_, line) = HostileResource(random);
                JsonNode? resource;
                try { resource = JsonNode.Parse(line); }
                catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException) { resource = JsonValue.Create(Encoding.UTF8.GetString(line)); }
                list.Add(new JsonObject { ["fullUrl"] = $"urn:uuid:{Guid.NewGuid()}", ["resource"] = resource });
            }
            bundle["entry"] = list;
            // The Bundle itself broken too, now and then.
            switch (random.Next(8))
            {
                case 0: bundle["type"] = random.Next(2) == 0 ? "history" : JsonValue.Create(3); break;
                case 1: bundle["entry"] = new JsonObject(); break;
                case 2: list.Add(JsonValue.Create("not an entry")); break;
                case 3: list.Add(new JsonObject { ["fullUrl"] = 5, ["resource"] = new JsonArray() }); break;
            }
            var path = Path.Combine(site.Dir, $"hostile-{f}.json");
            File.WriteAllText(path, bundle.ToJsonString());
            var before = f % 10 == 0 ? site.Dump() : null;
            var report = site.Import(path);
            AssertWellFormed(report, path, 0);
            if (!report.Applied)
            {
                rejected++;
                if (before is not null) Assert.Equal(before, site.Dump());
            }
            File.Delete(path);
        }
        output.WriteLine($"{files} hostile Bundles with {entries} entries: {rejected} rejected");
        Assert.True(rejected > files * 8 / 10, $"only {rejected} of {files} bundles rejected");
    }

    /// <summary>A 100 MB line, written streaming: refused with its line number, not held in memory.</summary>
    [Fact]
    public void AHundredMegabyteLineIsRefusedWithItsNumberWithoutBeingBuffered()
    {
        ImportBasePatients();
        var path = Path.Combine(site.Dir, "Huge.ndjson");
        using (var file = new FileStream(path, FileMode.Create))
        {
            file.Write(Encoding.UTF8.GetBytes(Fixtures.ConditionC2.ReplaceLineEndings(" ") + "\n"));
            file.Write("""{"resourceType":"Condition","id":"huge","subject":{"reference":"Patient/p1"},"note":[{"text":" """u8);
            var chunk = new byte[1 << 20];
            Array.Fill(chunk, (byte)'A');
            for (var i = 0; i < 100; i++) file.Write(chunk);
            file.Write("\"}]}\n"u8);
            file.Write(Encoding.UTF8.GetBytes(Fixtures.ConditionC3.ReplaceLineEndings(" ") + "\n"));
            file.Write("{\"resourceType\":\"Condition\"\n"u8);
        }
        Assert.True(new FileInfo(path).Length > 100_000_000);
        var before = site.Dump();

        // The file is read on this thread: what it allocates is what the importer buffered.
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var report = site.Import(path);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        Assert.False(report.Applied);
        Assert.Equal([2, 4], report.Problems.Select(p => p.Line));
        Assert.StartsWith($"{path}:2: line longer than 16 MiB", report.Problems[0].ToString());
        Assert.Contains("malformed JSON", report.Problems[1].Message);
        Assert.Equal(before, site.Dump());
        output.WriteLine($"100 MB line: {allocated / (1 << 20)} MiB allocated while importing");
        Assert.True(allocated < 48L << 20, $"{allocated >> 20} MiB allocated: the line was buffered");
    }

    [Fact]
    public void InvalidUtf8AndEscapedLoneSurrogatesAreProblemsAtTheirLineNotCrashes()
    {
        ImportBasePatients();
        var path = Path.Combine(site.Dir, "Condition.ndjson");
        File.WriteAllBytes(path, [
            .. Encoding.UTF8.GetBytes(Fixtures.ConditionC2.ReplaceLineEndings(" ") + "\n"),
            .. """{"resourceType":"Condition","id":"x"""u8, 0xFF, .. "\"}\n"u8,
            .. """{"resourceType":"Condition","id":"y","code":{"coding":[{"system":"urn:x","code":"\ud800"}]},"subject":{"reference":"Patient/p1"}}"""u8, (byte)'\n',
        ]);
        var report = site.Import(path);
        Assert.Equal([2, 3], report.Problems.Select(p => p.Line));
        Assert.Equal("not valid UTF-8 at column 36: FHIR JSON is UTF-8", report.Problems[0].Message);
        Assert.Contains("lone UTF-16 surrogate", report.Problems[1].Message);

        var bundle = Path.Combine(site.Dir, "bundle.json");
        File.WriteAllBytes(bundle, [.. "{\"resourceType\":\"Bundle\",\n\"type\":\"collection\",\"entry\":[\""u8, 0xC3, 0x28, .. "\"]}"u8]);
        var problem = Assert.Single(site.Import(bundle).Problems);
        Assert.Equal(2, problem.Line);
    }

    /// <summary>
    /// A first load defers the fact indexes to the end; a node serving the same file meanwhile opens
    /// it and makes them from the schema. Found by the fuzz test above (which dumps the database
    /// between files): the import then failed at its very end with "index already exists".
    /// </summary>
    [Fact]
    public void AFirstLoadFinishesWhenAnotherConnectionMadeTheDeferredIndexesMeanwhile()
    {
        ImportBasePatients();
        using var db = Midia.Node.Store.SiteDatabase.Open(site.DbPath);
        var importer = new FhirImporter(db);
        Assert.True(importer.ImportFile(site.WriteNdjson("Condition.ndjson", Fixtures.ConditionC1, Fixtures.ConditionC2)).Applied);
        Midia.Node.Store.SiteDatabase.Open(site.DbPath).Dispose();
        importer.Dispose();
        Assert.Contains("fact_code", site.Rows("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'fact'"));
    }

    [Fact]
    public void AJsonFileOverTheWholeFileCapIsRefusedUnread()
    {
        var path = Path.Combine(site.Dir, "big.json");
        using (var file = new FileStream(path, FileMode.Create)) file.SetLength(FhirImporter.MaxJsonFileBytes + 1);
        var report = site.Import(path);
        var problem = Assert.Single(report.Problems);
        Assert.Contains("export as NDJSON", problem.Message);
    }
}
