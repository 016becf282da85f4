using Midia.Node.Import;
using Midia.Node.Store;
using Xunit;

namespace Midia.Node.Tests.Import;

/// <summary>A file with problems is reported completely, with lines, and applied not at all.</summary>
public sealed class BadInputTests : IDisposable
{
    readonly SiteFixture site = new();

    public BadInputTests()
    {
        site.WriteNdjson("Patient.ndjson", Fixtures.Patients);
        Assert.True(site.Import(Path.Combine(site.Dir, "Patient.ndjson")).Applied);
    }

    public void Dispose() => site.Dispose();

    static int[] Lines(ImportReport report) => [.. report.Problems.Select(p => p.Line)];

    [Fact]
    public void ABrokenLineInTheMiddleIsReportedWithItsNumberAndLeavesTheDatabaseAsBefore()
    {
        var before = site.Dump();
        var path = site.Write("Condition.ndjson", string.Join("\n",
            Fixtures.ConditionC1.ReplaceLineEndings(" "),
            Fixtures.ConditionC2.ReplaceLineEndings(" "),
            """{"resourceType":"Condition","id":"broken","subject":{"reference":"Patient/p1"},"code":{"coding":[""",
            Fixtures.ConditionC3.ReplaceLineEndings(" ")) + "\n");

        var report = site.Import(path);

        Assert.False(report.Applied);
        var problem = Assert.Single(report.Problems);
        Assert.Equal(3, problem.Line);
        Assert.StartsWith($"{path}:3: malformed JSON", problem.ToString());
        Assert.Equal(before, site.Dump());
    }

    [Fact]
    public void EveryProblemOfAFileIsReportedNotOnlyTheFirst()
    {
        var path = site.WriteNdjson("Mixed.ndjson",
            """{"resourceType":"Condition","id":"a","code":{"coding":[{"system":"http://loinc.org","code":"x"}]}}""",
            """{"resourceType":"Condition","id":"b","subject":{"reference":"Patient/nobody"}}""",
            Fixtures.ConditionC2,
            """{"resourceType":"Observation","id":"c","subject":{"reference":"Patient/p1"},"code":"2857-1","valueQuantity":{"value":"4.2"}}""",
            """["not","a","resource"]""",
            """{"resourceType":"Organization","id":"e"}""",
            """{"resourceType":"Patient","id":"p9","identifier":[{"system":"http://fhir.de/sid/gkv/kvid-10","value":"A12345678"}]}""",
            """{"resourceType":"MedicationStatement","id":"m","subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/123"}}""",
            """{"resourceType":"Condition","id":"d","subject":{"reference":"Group/1"}}""",
            """{"resourceType":"Condition","subject":{"reference":"Patient/p1"}}""",
            """{"resourceType":"Procedure","id":"e","subject":{"reference":"Patient/p1"},"performedDateTime":"2021-02-30"}""");
        var before = site.Dump();

        var report = site.Import(path);

        Assert.Equal([1, 2, 4, 4, 5, 6, 7, 8, 9, 10, 11], Lines(report));
        var text = string.Join("\n", report.Problems);
        Assert.Contains("Mixed.ndjson:1: Condition/a subject: missing", text);
        Assert.Contains("Mixed.ndjson:2: Condition/b subject.reference: Patient/nobody is neither in the site database nor earlier in this file", text);
        Assert.Contains("Mixed.ndjson:4: Observation/c code: expected an object, found a string", text);
        Assert.Contains("Mixed.ndjson:4: Observation/c valueQuantity.value: expected a number, found a string", text);
        Assert.Contains("Mixed.ndjson:5: expected a FHIR resource", text);
        Assert.Contains("Mixed.ndjson:6: Organization/e: Organization is a resource type this node does not use", text);
        Assert.Contains("Mixed.ndjson:7: Patient/p9 identifier[0].value: a KVNR is one capital letter followed by 9 digits", text);
        Assert.Contains("Mixed.ndjson:8: MedicationStatement/m medicationReference.reference: Medication/123 is neither in this file, nor in the site database, nor in another file of this import", text);
        Assert.Contains("Mixed.ndjson:9: Condition/d subject.reference: 'Group/1' is not a Patient reference", text);
        Assert.Contains("Mixed.ndjson:10: Condition id: missing", text);
        Assert.Contains("Mixed.ndjson:11: Procedure/e performedDateTime: '2021-02-30' is not a FHIR date", text);
        Assert.Equal(0, report.Resources);
        Assert.Equal(before, site.Dump());
    }

    [Fact]
    public void AReferenceToAMissingPatientRejectsTheFile()
    {
        var path = site.WriteNdjson("Condition.ndjson", Fixtures.ConditionC1.Replace("Patient/p1", "Patient/p7"));
        var report = site.Import(path);
        Assert.Equal("Condition/c1 subject.reference: Patient/p7 is neither in the site database nor earlier in this file", Assert.Single(report.Problems).Message);
        Assert.Equal(0, site.Scalar("SELECT count(*) FROM fact"));
    }

    [Fact]
    public void APatientEarlierInTheSameFileCanBeReferred()
    {
        var path = site.WriteNdjson("Mixed.ndjson",
            """{"resourceType":"Patient","id":"new","gender":"female"}""",
            """{"resourceType":"Condition","id":"x","subject":{"reference":"Patient/new"},"code":{"coding":[{"system":"http://fhir.de/CodeSystem/bfarm/icd-10-gm","code":"I10"}]}}""");
        Assert.True(site.Import(path).Applied);
        Assert.Equal(["new|I10"], site.Rows("SELECT p.resource_id, f.code FROM fact f JOIN patient p USING (pid)"));
    }

    [Fact]
    public void ARejectedFileLeavesNoPatientsBehindAndLaterFilesGetFreshPids()
    {
        var bad = site.WriteNdjson("Patient-bad.ndjson", """{"resourceType":"Patient","id":"p4"}""", "{");
        Assert.False(site.Import(bad).Applied);
        Assert.Equal(0, site.Scalar("SELECT count(*) FROM patient WHERE resource_id = 'p4'"));

        var condition = site.WriteNdjson("Condition.ndjson", Fixtures.ConditionC1.Replace("Patient/p1", "Patient/p4"));
        Assert.False(site.Import(condition).Applied);

        var good = site.WriteNdjson("Patient-good.ndjson", """{"resourceType":"Patient","id":"p5"}""");
        Assert.True(site.Import(good).Applied);
        Assert.Equal(4, site.Scalar("SELECT pid FROM patient WHERE resource_id = 'p5'"));
    }

    [Fact]
    public void AnUnusedTypeRejectsTheFileWhenStrict()
    {
        var path = site.WriteNdjson("Mixed.ndjson", Fixtures.ConditionC1, """{"resourceType":"Practitioner","id":"e1"}""");
        var report = site.Import(path, skipUnknown: false);
        Assert.Equal(2, Assert.Single(report.Problems).Line);
        Assert.Contains("Practitioner is a resource type this node does not use (refused with --strict", report.Problems[0].Message);
        Assert.Equal(0, site.Scalar("SELECT count(*) FROM fact"));
    }

    [Fact]
    public void AnUnusedTypeIsSkippedAndCountedByType()
    {
        var path = site.WriteNdjson("Mixed.ndjson", Fixtures.ConditionC1, """{"resourceType":"Organization","id":"o1","name":"Uniklinik"}""");
        var report = site.Import(path, skipUnknown: true);
        Assert.True(report.Applied);
        Assert.Equal(1, report.Skipped);
        Assert.Equal(1, report.SkippedByType["Organization"]);
        Assert.Equal(1, report.Resources);
        Assert.Equal(2, Assert.Single(report.Warnings).Line);
        Assert.Equal(2, site.Scalar("SELECT count(*) FROM fact"));
    }

    [Fact]
    public void AKvnrOfTheRightShapeIsAcceptedWhateverItsCheckDigitAndOthersAreRejectedWithoutEchoingThem()
    {
        // Shape: one capital letter + 9 digits; the check digit is not checked (examples in circulation fail it).
        foreach (var good in new[] { "A123456780", "A123456789", "Z000000000" })
            Assert.True(LocalPatient.IsKvnrShape(good), good);
        foreach (var bad in new[] { "a123456789", "A12345678", "A1234567890", "AB23456789", "A12345678X", "", "1234567890" })
            Assert.False(LocalPatient.IsKvnrShape(bad), bad);

        var path = site.WriteNdjson("Patient2.ndjson",
            """{"resourceType":"Patient","id":"k1","identifier":[{"system":"http://fhir.de/sid/gkv/kvid-10","value":"Q999999999"}]}""",
            """{"resourceType":"Patient","id":"k2","identifier":[{"system":"http://fhir.de/sid/gkv/kvid-10","value":"q12345678"}]}""");
        var report = site.Import(path);
        var problem = Assert.Single(report.Problems);
        Assert.Equal(2, problem.Line);
        Assert.DoesNotContain("q12345678", problem.ToString());
    }

    [Fact]
    public void AnOtherwiseGoodFileIsAppliedWhileABadOneIsNot()
    {
        site.WriteNdjson("in/Condition.ndjson", Fixtures.ConditionC1);
        site.WriteNdjson("in/Procedure.ndjson", Fixtures.ProcedurePeriod, """{"resourceType":"Procedure","id":"x"}""");
        var reports = site.ImportAll(Path.Combine(site.Dir, "in"));
        Assert.Equal([true, false], reports.Select(r => r.Applied));
        Assert.Equal(["Condition"], site.Rows("SELECT DISTINCT resource_type FROM fact"));
    }

    [Fact]
    public void LineNumbersStayRightAcrossReadBuffersAndOverlongLinesAndCrLf()
    {
        // About 3 MB: several refills of the reader's 1 MB buffer, one line longer than it, CRLF endings.
        var lines = new List<string>();
        for (int i = 1; i <= 9000; i++)
            lines.Add(i == 7000
                ? "{\"resourceType\":\"Condition\",\"id\":\"x\""
                : $$"""{"resourceType":"Procedure","id":"pr{{i}}","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://fhir.de/CodeSystem/bfarm/ops","code":"5-870","display":"{{(i == 5000 ? new string('x', 1_500_000) : "excision")}}"}]},"performedDateTime":"2020-01-01"}""");
        var path = site.Write("Procedure.ndjson", "\uFEFF" + string.Join("\r\n", lines) + "\r\n");

        var report = site.Import(path);
        Assert.Equal(7000, Assert.Single(report.Problems).Line);

        lines.RemoveAt(6999);
        site.Write("Procedure.ndjson", "\uFEFF" + string.Join("\r\n", lines));
        var good = site.Import(path);
        Assert.True(good.Applied, string.Join("\n", good.Problems));
        Assert.Equal(8999, good.Resources);
        Assert.Equal(1_500_000, site.Scalar("SELECT length(display) FROM fact WHERE resource_id = 'pr5000'"));
        Assert.Equal(8999, site.Scalar("SELECT count(*) FROM fact"));
    }
}
