using System.Diagnostics;
using Xunit;

namespace Midia.Node.Tests.Import;

/// <summary>`midia-node import` as an operator runs it: the real executable, its exit code and output.</summary>
public sealed class ImportCommandTests : IDisposable
{
    readonly SiteFixture site = new();

    public void Dispose() => site.Dispose();

    static (int Exit, string Out, string Err) MidiaNode(params string[] args)
    {
        var exe = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "midia-node.exe" : "midia-node");
        var start = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void ImportingAGoodExportFolderExitsZeroAndSummarises()
    {
        Fixtures.WriteExport(site);
        var (exit, output, error) = MidiaNode("import", "--db", site.DbPath, Path.Combine(site.Dir, "export"));
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.StartsWith("imported 21 resources (23 facts) from 8 of 8 files", output);
        Assert.Equal(3, site.Scalar("SELECT count(*) FROM patient"));
    }

    [Fact]
    public void ABadFileExitsNonZeroWithItsProblemLinesAndOneErrorLineWhileTheGoodFileIsApplied()
    {
        site.WriteNdjson("in/Patient.ndjson", Fixtures.Patients);
        var bad = site.Write("in/Condition.ndjson", Fixtures.ConditionC1.ReplaceLineEndings(" ") + "\n{oops\n" + Fixtures.ConditionC2.ReplaceLineEndings(" ").Replace("Patient/p2", "Patient/p8") + "\n");

        var (exit, _, error) = MidiaNode("import", "--db", site.DbPath, Path.Combine(site.Dir, "in"));

        Assert.Equal(1, exit);
        var lines = error.TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith($"{bad}:2: malformed JSON", lines[0]);
        Assert.StartsWith($"{bad}:3: Condition/c2 subject.reference: Patient/p8", lines[1]);
        Assert.Equal("error: 1 of 2 files rejected with 2 problems; nothing of those files was applied", lines[2]);
        Assert.Equal(3, site.Scalar("SELECT count(*) FROM patient"));
        Assert.Equal(0, site.Scalar("SELECT count(*) FROM fact"));
    }

    [Fact]
    public void UnusedTypesAreSkippedAndCountedByTypeAndStrictRefusesThem()
    {
        site.WriteNdjson("Patient.ndjson", Fixtures.PatientP1);
        var organizations = site.WriteNdjson("Organization.ndjson", """{"resourceType":"Organization","id":"o1"}""", """{"resourceType":"Organization","id":"o2"}""");
        site.WriteNdjson("Practitioner.ndjson", """{"resourceType":"Practitioner","id":"d1"}""");

        var refused = MidiaNode("import", "--db", site.DbPath, "--strict", organizations);
        Assert.Equal(1, refused.Exit);
        Assert.Contains($"{organizations}:1: Organization/o1: Organization is a resource type this node does not use (refused with --strict", refused.Err);

        var skipped = MidiaNode("import", "--db", site.DbPath, site.Dir);
        Assert.Equal(0, skipped.Exit);
        Assert.Equal("", skipped.Err);
        Assert.Contains("skipped 3 resources of types this node does not use: Organization 2, Practitioner 1 (--strict refuses them)", skipped.Out);
        // The flag that used to ask for skipping is still accepted.
        Assert.Equal(0, MidiaNode("import", "--db", site.DbPath, "--skip-unknown", site.Dir).Exit);
    }

    [Fact]
    public void AMissingPathOrDbIsOneErrorLine()
    {
        var missing = MidiaNode("import", "--db", site.DbPath, Path.Combine(site.Dir, "nope.ndjson"));
        Assert.Equal(1, missing.Exit);
        Assert.Equal($"error: no such file or folder: {Path.Combine(site.Dir, "nope.ndjson")}\n", missing.Err);

        var noPath = MidiaNode("import", "--db", site.DbPath);
        Assert.NotEqual(0, noPath.Exit);
        Assert.StartsWith("error: ", noPath.Err);
        Assert.Single(noPath.Err.TrimEnd('\n').Split('\n'));
    }
}
