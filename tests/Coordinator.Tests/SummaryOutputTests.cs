using System.Text.Json;
using Midia.Care;
using Midia.Cli.Care;
using Midia.Coordinator.Tests.Support;
using Midia.Protos.Coordinator.V1;
using Spectre.Console;

namespace Midia.Coordinator.Tests;

/// <summary>What `midia summary` prints for a reply, without a network: the terminal view and --json.</summary>
public sealed class SummaryOutputTests
{
    static string Render(SummaryReply reply)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 160;
        SummaryView.Write(console, reply);
        return writer.ToString();
    }

    static string[] Lines(string text) => text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

    [Fact]
    public void TheViewNamesARevokedAndATimedOutSiteWithWhyEachIsMissing()
    {
        var text = Render(SummaryReplies.ProblemsOnly(
            new SummarySite { Site = "ulm", Status = SiteStatus.NotShared, Message = SummaryReplies.RevokedMessage },
            new SummarySite { Site = "practice", Status = SiteStatus.Timeout, Message = SummaryReplies.TimeoutMessage }));

        var ulm = Assert.Single(Lines(text), l => l.Contains("│ ulm "));
        Assert.Contains("not_shared", ulm);
        Assert.Contains(SummaryReplies.RevokedMessage, ulm);
        var practice = Assert.Single(Lines(text), l => l.Contains("│ practice "));
        Assert.Contains("timeout", practice);
        Assert.Contains(SummaryReplies.TimeoutMessage, practice);
        var notIncluded = Assert.Single(Lines(text), l => l.StartsWith("not included:", StringComparison.Ordinal));
        Assert.Equal("not included: ulm (not_shared), practice (timeout), for the reasons above", notIncluded);
        Assert.DoesNotContain("\u001b[", text);
    }

    [Fact]
    public void TheViewDrawsNoHeadingForASectionWithoutEntriesAndSaysOnceWhatNoSiteRecorded()
    {
        var text = Render(SummaryReplies.ProblemsOnly(new SummarySite { Site = "practice", Status = SiteStatus.Timeout, Message = SummaryReplies.TimeoutMessage }));

        var headings = Lines(text).Where(l => l.Length > 0 && char.IsUpper(l[0])).ToList();
        Assert.Equal(["Problems"], headings);
        Assert.Contains("nothing recorded for medications, results, procedures by erlangen (the sites not included may hold more)", text);
        Assert.Contains("allergies are not carried by this network", text);
    }

    [Fact]
    public void ARichSummaryShowsProblemsStagingTrendsAndOneTimelineWithEverySourceOfAFoldedEntry()
    {
        var reply = SummaryReplies.Rich();
        var lines = Lines(Render(reply));

        var headings = lines.Where(l => l.Length > 0 && char.IsUpper(l[0])).ToList();
        Assert.Equal(["Problems", "Oncology staging and follow-up", "Trends", "Timeline: therapies, procedures, imaging, results"], headings);
        var ms = Assert.Single(lines, l => l.Contains("Multiple sclerosis"));
        Assert.Contains("2018-05-02", ms);
        Assert.Contains("ICD-10-GM G35", ms);
        Assert.Contains("erlangen, munich", ms);
        Assert.Contains(lines, l => l.Contains("cT category") && l.Contains("cT2"));
        // A coded result without a display: a standard system's code with its name, a grading's code alone.
        Assert.Contains(lines, l => l.Contains("cN category") && l.Contains("SNOMED 369833007"));
        Assert.Contains(lines, l => l.Contains("Status of regression of tumor") && l.Contains("│ V ") && !l.Contains("tumour-status V"));
        Assert.Contains(lines, l => l.Contains("ocrelizumab") && l.Contains("2018-06-01 → 2021-03-01") && l.Contains("ATC L04AG08"));
        Assert.Contains(lines, l => l.Contains("MRI brain with contrast") && l.Contains("DICOM MR") && l.Contains("munich"));
        Assert.Contains(lines, l => l.Contains("CEA") && l.Contains("(no date)") && l.Contains("3.1 ng/mL"));
        Assert.Contains(lines, l => l.Contains("Expanded Disability Status Scale (EDSS)") && l.Contains(" 2.5 ") && !l.Contains("{score}"));
        // Every entry of the reply appears once in the view: problems, staging and the timeline together.
        var entryLines = lines.Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\s+(\d{4}-\d\d-\d\d|\(no date\))")).ToList();
        Assert.Equal(reply.Entries.Count, entryLines.Count);
        // Timeline rows are in date order, whatever order the reply had.
        var dates = entryLines.Select(l => l.Trim()[..10]).Where(d => char.IsDigit(d[0])).Skip(5).ToList(); // after 2 problems and 3 staging rows
        Assert.Equal(dates.Order(StringComparer.Ordinal), dates);
        Assert.StartsWith("(no date)", entryLines[^1].Trim()); // undated entries close the timeline
    }

    [Fact]
    public void TheSparklineHasOneGlyphPerValueInDateOrderWithTheMinimumLowestAndTheMaximumHighest()
    {
        var reply = SummaryReplies.Rich();
        var psa = reply.Entries.Select(t => t.Entry).Where(e => e.Code == "2857-1").OrderBy(e => e.Date, StringComparer.Ordinal).Select(e => e.Value).ToList();
        var lines = Lines(Render(reply));

        var trends = lines.Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, "[▁▂▃▄▅▆▇█]")).ToList();
        Assert.Equal(2, trends.Count); // PSA and EDSS; one undated CEA value is no trend
        var line = Assert.Single(trends, l => l.TrimStart().StartsWith("PSA (ng/mL)", StringComparison.Ordinal));
        var glyphs = System.Text.RegularExpressions.Regex.Match(line, "[▁▂▃▄▅▆▇█]+").Value;
        Assert.Equal(psa.Count, glyphs.Length);
        Assert.Equal('▁', glyphs[psa.IndexOf(psa.Min())]);
        Assert.Equal('█', glyphs[psa.IndexOf(psa.Max())]);
        for (int i = 0; i < psa.Count; i++)
            for (int j = 0; j < psa.Count; j++)
                if (psa[i] < psa[j]) Assert.True(glyphs[i] <= glyphs[j], $"{psa[i]} drawn higher than {psa[j]}");
        Assert.Matches(@"8\.2 \(2020-01-10\)\s.*2\.3 \(2021-06-10\)\s.*0\.1 \(2020-07-10\)\s.*8\.2 \(2020-01-10\)[\s│]+5\b", line); // first, last, lowest, highest, count
        var edss = Assert.Single(trends, l => l.TrimStart().StartsWith("Expanded Disability Status Scale (EDSS) ", StringComparison.Ordinal));
        Assert.Contains(" ▁█ ", edss);
    }

    [Fact]
    public void ACodedResultShowsItsTermWithItsCodeInTheViewJsonAndIps()
    {
        var reply = SummaryReplies.ProblemsOnly();
        reply.Entries.Add(SummaryReplies.Entry("observation", "results", Midia.Node.Store.CodeSystems.Loinc, "85319-2", "HER2 status", "2021-04-01",
            valueSystem: Midia.Node.Store.CodeSystems.Snomed, valueCode: "10828004", valueDisplay: "Positive"));

        Assert.Contains(Lines(Render(reply)), l => l.Contains("HER2 status") && l.Contains("Positive (SNOMED 10828004)"));
        using (var document = Json(reply))
        {
            var her2 = document.RootElement.GetProperty("entries").EnumerateArray().Single(e => e.GetProperty("code").GetString() == "85319-2");
            Assert.Equal(("10828004", "Positive"), (her2.GetProperty("valueCode").GetString(), her2.GetProperty("valueDisplay").GetString()));
        }
        var bundle = JsonDocument.Parse(IpsBundle.Build(reply, DateTimeOffset.UnixEpoch).ToJsonString()).RootElement;
        var observation = bundle.GetProperty("entry").EnumerateArray().Select(e => e.GetProperty("resource"))
            .Single(r => r.GetProperty("resourceType").GetString() == "Observation");
        var concept = observation.GetProperty("valueCodeableConcept");
        Assert.Equal("Positive", concept.GetProperty("text").GetString());
        var coding = Assert.Single(concept.GetProperty("coding").EnumerateArray());
        Assert.Equal((Midia.Node.Store.CodeSystems.Snomed, "10828004", "Positive"),
            (coding.GetProperty("system").GetString(), coding.GetProperty("code").GetString(), coding.GetProperty("display").GetString()));
        // The section narrative reads the same words as the terminal.
        Assert.Contains(bundle.GetProperty("entry")[0].GetProperty("resource").GetProperty("section").EnumerateArray(),
            s => s.TryGetProperty("text", out var text) && text.GetProperty("div").GetString()!.Contains("Positive (SNOMED 10828004)"));
    }

    static JsonDocument Json(SummaryReply reply)
    {
        using var stream = new MemoryStream();
        using (var writer = Midia.Cli.Research.CountJson.Stdout(stream)) SummaryJson.Write(writer, reply);
        return JsonDocument.Parse(stream.ToArray());
    }

    [Fact]
    public void SummaryJsonHasTheFieldNamesOfInterfaceMd()
    {
        var reply = SummaryReplies.Rich();
        using var document = Json(reply);
        var root = document.RootElement;

        Assert.Equal(["requestId", "sites", "entries"], root.EnumerateObject().Select(p => p.Name));
        var sites = root.GetProperty("sites").EnumerateArray().ToList();
        Assert.Equal(["erlangen", "munich", "ulm", "practice"], sites.Select(s => s.GetProperty("site").GetString()));
        Assert.Equal(["ok", "ok", "not_shared", "timeout"], sites.Select(s => s.GetProperty("status").GetString()));
        Assert.Equal(["site", "status", "entries"], sites[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(["site", "status", "message", "entries"], sites[2].EnumerateObject().Select(p => p.Name));
        Assert.Equal(SummaryReplies.RevokedMessage, sites[2].GetProperty("message").GetString());

        var entries = root.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(reply.Entries.Count, entries.Count);
        string[] documented = ["site", "kind", "system", "code", "display", "date", "value", "unit"];
        foreach (var (json, timeline) in entries.Zip(reply.Entries))
        {
            var names = json.EnumerateObject().Select(p => p.Name).ToList();
            // The documented fields first and in their order; value and unit only where there are some.
            var expected = documented.Where(n => n switch { "value" => timeline.Entry.HasValue, "unit" => timeline.Entry.Unit.Length > 0, _ => true }).ToList();
            Assert.Equal(expected, names.Take(expected.Count));
            Assert.Contains(json.GetProperty("kind").GetString(), new[] { "condition", "observation", "medication", "procedure", "imaging" });
            Assert.Equal(timeline.Sites[0], json.GetProperty("site").GetString());
            Assert.Equal(timeline.Sites, json.GetProperty("sites").EnumerateArray().Select(s => s.GetString()!));
            Assert.Equal(timeline.Entry.Code, json.GetProperty("code").GetString());
        }
        var ms = entries.Single(e => e.GetProperty("code").GetString() == "G35");
        Assert.Equal(["erlangen", "munich"], ms.GetProperty("sites").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal("2018-05-02", ms.GetProperty("date").GetString());
        Assert.False(ms.TryGetProperty("value", out _));
        var psa = entries.First(e => e.GetProperty("code").GetString() == "2857-1");
        Assert.Equal(0.9, psa.GetProperty("value").GetDouble());
        Assert.Equal("ng/mL", psa.GetProperty("unit").GetString());
        var cea = entries.Single(e => e.GetProperty("code").GetString() == "2039-6");
        Assert.Equal(JsonValueKind.Null, cea.GetProperty("date").ValueKind);
        var staging = entries.Single(e => e.GetProperty("code").GetString() == "399504009");
        Assert.Equal(("staging", "T2", "cT2"), (staging.GetProperty("section").GetString(), staging.GetProperty("valueCode").GetString(), staging.GetProperty("valueDisplay").GetString()));
        var ocrelizumab = entries.Single(e => e.GetProperty("code").GetString() == "L04AG08");
        Assert.Equal("2021-03-01", ocrelizumab.GetProperty("endDate").GetString());
    }
}

/// <summary>What `midia summary` refuses before anything is sent.</summary>
public sealed class SummaryCommandTests
{
    [Theory]
    [InlineData(null, null)]
    [InlineData("erlangen-1", "A123456780")]
    [InlineData("  ", "")]
    public void ThePatientIsNamedByExactlyOneOfLocalIdAndKvnr(string? patient, string? kvnr)
    {
        var e = Assert.Throws<Midia.Hosting.CommandException>(() => SummaryCommand.Resolution(patient, kvnr));
        Assert.Equal("name the patient with exactly one of --patient LOCALID and --kvnr K", e.Message);
    }

    [Theory]
    [InlineData("A12345678")]
    [InlineData("1234567890")]
    [InlineData("AB23456789")]
    public void AKvnrOfTheWrongShapeIsRefusedWithoutEchoingIt(string kvnr)
    {
        var e = Assert.Throws<Midia.Hosting.CommandException>(() => SummaryCommand.Resolution(null, kvnr));
        Assert.Equal("--kvnr: a KVNR is one capital letter followed by 9 digits", e.Message);
    }

    [Fact]
    public void AKvnrIsSentUpperCaseAndTrimmedAndALocalIdAsGiven()
    {
        Assert.Equal("A123456780", SummaryCommand.Resolution(null, " a123456780 ").Kvnr);
        Assert.Equal("erlangen-146", SummaryCommand.Resolution("erlangen-146", null).LocalId);
    }
}
