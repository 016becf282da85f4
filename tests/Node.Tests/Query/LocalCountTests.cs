using System.Diagnostics;
using Midia.Node.Audit;
using Midia.Node.Consent;
using Xunit;
using static Midia.Node.Tests.Query.Ccdl;

namespace Midia.Node.Tests.Query;

/// <summary>
/// `midia-node count --db FILE QUERY.json [--json]`, the site admin's dry run, as the admin runs it:
/// the real executable on a site file. Exact, counted as research would count (matching and
/// consenting), nothing released anywhere, one audit entry as the local admin.
/// </summary>
public sealed class LocalCountTests : IDisposable
{
    readonly SiteFile site = new();
    readonly string folder = Directory.CreateTempSubdirectory("midia-local-count-").FullName;

    public void Dispose()
    {
        site.Dispose();
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }

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

    string QueryFile(string json)
    {
        var path = Path.Combine(folder, $"query-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void TheDryRunCountsExactlyTheConsentingPatientsThatMatchAndIsAuditedAsTheLocalAdmin()
    {
        var consented = site.Patient("female", new DateOnly(1960, 1, 1));
        site.Fact(consented, Icd, "C50.4", resourceType: "Condition");
        site.Provision(consented, ConsentPolicies.Research, permit: true, null, null);
        var withoutConsent = site.Patient("female", new DateOnly(1961, 1, 1));
        site.Fact(withoutConsent, Icd, "C50.1", resourceType: "Condition");
        var other = site.Patient("male", new DateOnly(1950, 1, 1));
        site.Fact(other, Icd, "C61", resourceType: "Condition");
        site.Provision(other, ConsentPolicies.Research, permit: true, null, null);
        site.Commit();

        var query = QueryFile(Only(Code(Icd, "C50")));
        var json = MidiaNode("count", "--db", site.DatabasePath, query, "--json");
        Assert.Equal(0, json.Exit);
        Assert.Equal("{\"value\": 1, \"exact\": true}\n", json.Out);
        Assert.Equal("", json.Err);

        var text = MidiaNode("count", "--db", site.DatabasePath, query);
        Assert.Equal(0, text.Exit);
        Assert.StartsWith("1 patients match the query and permit research use at this site (exact", text.Out);

        var entries = new AuditLog(site.Connection).Read();
        Assert.Equal(2, entries.Count);
        Assert.All(entries, e =>
        {
            Assert.StartsWith("local admin (", e.UserName);
            Assert.Equal("site-admin", e.UserRole);
            Assert.Equal(AuditOutcome.Answered, e.Outcome);
            Assert.Equal("1 (exact, local dry run; not released)", e.Released);
        });
    }

    [Fact]
    public void AQueryTheNodeRefusesExitsNonZeroWithItsPathAndIsAuditedAsRefused()
    {
        site.Patient("female", null);
        site.Commit();
        var query = QueryFile(Only(Code(Loinc, "2857-1", ""","valueFilter":{"type":"quantity-comparator","comparator":"gte","value":4}""")));

        var (exit, output, error) = MidiaNode("count", "--db", site.DatabasePath, query, "--json");

        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Equal($"error: {query}: inclusionCriteria[0][0].valueFilter.comparator: unknown comparator 'gte'; use one of eq, ne, lt, le, gt, ge\n", error);
        var entry = Assert.Single(new AuditLog(site.Connection).Read());
        Assert.Equal(AuditOutcome.Refused, entry.Outcome);
        Assert.Contains("inclusionCriteria[0][0].valueFilter.comparator", entry.Reason);
    }

    [Fact]
    public void AMissingDatabaseIsNotCreated()
    {
        var missing = Path.Combine(folder, "no-such-site.db");
        var (exit, _, error) = MidiaNode("count", "--db", missing, QueryFile(Only(Code(Icd, "C50"))));
        Assert.Equal(1, exit);
        Assert.Contains("does not exist", error);
        Assert.False(File.Exists(missing));
    }
}
