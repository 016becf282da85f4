using Xunit;
using static Midia.Node.Tests.Import.SiteFixture;

namespace Midia.Node.Tests.Import;

/// <summary>Re-importing an export (or an updated one) replaces resources instead of duplicating them.</summary>
public sealed class UpsertTests : IDisposable
{
    readonly SiteFixture site = new();

    public void Dispose() => site.Dispose();

    [Fact]
    public void ReimportingTheSameExportChangesNothingButTheDataVersion()
    {
        Fixtures.WriteExport(site);
        var export = Path.Combine(site.Dir, "export");
        site.ImportAll(export);
        var first = site.Dump(withMeta: false, withRowIds: false);
        var facts = site.Scalar("SELECT count(*) FROM fact");

        var again = site.ImportAll(export);

        Assert.All(again, r => Assert.True(r.Applied));
        Assert.Equal(facts, site.Scalar("SELECT count(*) FROM fact"));
        // Row ids of re-inserted facts differ; their content does not.
        Assert.Equal(first, site.Dump(withMeta: false, withRowIds: false));
        Assert.Equal(16, site.Scalar("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'data_version'"));
    }

    [Fact]
    public void AnUpdatedResourceReplacesItsFactsAndAttributes()
    {
        site.WriteNdjson("Patient.ndjson", Fixtures.Patients);
        site.Import(Path.Combine(site.Dir, "Patient.ndjson"));
        site.WriteNdjson("Condition.ndjson", Fixtures.ConditionC1, Fixtures.ConditionC2);
        site.Import(Path.Combine(site.Dir, "Condition.ndjson"));
        Assert.Equal(3, site.Scalar("SELECT count(*) FROM fact"));

        var updated = Fixtures.ConditionC1
            .Replace("\"C50.4\"", "\"C50.8\"")
            .Replace("\"active\"", "\"remission\"")
            .Replace("2019-03-04T10:00:00+01:00", "2019-02-01");
        site.WriteNdjson("Condition-update.ndjson", updated);
        Assert.True(site.Import(Path.Combine(site.Dir, "Condition-update.ndjson")).Applied);

        Assert.Equal(3, site.Scalar("SELECT count(*) FROM fact"));
        Assert.Equal(["254837009", "C50.8"], site.Rows("SELECT code FROM fact WHERE resource_id = 'c1' ORDER BY code"));
        Assert.Equal([$"{Day(2019, 2, 1)}"], site.Rows("SELECT DISTINCT date FROM fact WHERE resource_id = 'c1'"));
        Assert.Equal(["remission"], site.Rows("SELECT code FROM attribute WHERE resource_id = 'c1' AND name = 'clinicalstatus'"));
        Assert.Equal(7, site.Scalar("SELECT count(*) FROM attribute WHERE resource_id = 'c1'"));
        Assert.Equal(["G35"], site.Rows("SELECT code FROM fact WHERE resource_id = 'c2'"));
    }

    [Fact]
    public void AnUpdatedPatientKeepsItsPidAndLosesItsLinkageOnlyWhenIdentifyingDataChanged()
    {
        site.WriteNdjson("Patient.ndjson", Fixtures.Patients);
        site.Import(Path.Combine(site.Dir, "Patient.ndjson"));
        var pid = site.Scalar("SELECT pid FROM patient WHERE resource_id = 'p1'");
        using (var db = Midia.Node.Store.SiteDatabase.Open(site.DbPath))
            Midia.Node.Store.SiteDatabase.Execute(db, "UPDATE patient SET linkage = 'L' WHERE resource_id IN ('p1', 'p2')");

        site.WriteNdjson("Patient2.ndjson",
            Fixtures.PatientP1.Replace("\"deceasedBoolean\":false", "\"deceasedBoolean\":true"),
            Fixtures.PatientP2.Replace("\"male\"", "\"female\""));
        Assert.True(site.Import(Path.Combine(site.Dir, "Patient2.ndjson")).Applied);

        Assert.Equal(pid, site.Scalar("SELECT pid FROM patient WHERE resource_id = 'p1'"));
        Assert.Equal(3, site.Scalar("SELECT count(*) FROM patient"));
        Assert.Equal(["p1|1|L", "p2|0|NULL"], site.Rows("SELECT resource_id, deceased = 1 AND resource_id = 'p1', linkage FROM patient WHERE resource_id IN ('p1','p2') ORDER BY 1"));
    }

    [Fact]
    public void AConsentNoLongerActiveLosesItsProvisionsOnReimport()
    {
        site.WriteNdjson("Patient.ndjson", Fixtures.Patients);
        site.WriteNdjson("Consent.ndjson", Fixtures.ConsentActive);
        site.ImportAll(site.Dir);
        Assert.Equal(3, site.Scalar("SELECT count(*) FROM consent_provision"));

        site.WriteNdjson("Consent.ndjson", Fixtures.ConsentActive.Replace("\"status\":\"active\"", "\"status\":\"inactive\""));
        Assert.True(site.Import(Path.Combine(site.Dir, "Consent.ndjson")).Applied);

        Assert.Equal(0, site.Scalar("SELECT count(*) FROM consent_provision"));
    }

    [Fact]
    public void AResourceRepeatedInOneFileEndsUpOnceAsItsLastVersion()
    {
        site.WriteNdjson("Patient.ndjson", Fixtures.Patients);
        site.WriteNdjson("Procedure.ndjson", Fixtures.ProcedureDateTime, Fixtures.ProcedureDateTime.Replace("8-522", "8-527"));
        Assert.All(site.ImportAll(site.Dir), r => Assert.True(r.Applied));
        Assert.Equal(["8-527"], site.Rows("SELECT code FROM fact"));
    }

    [Fact]
    public void AFirstLoadEndsWithEveryIndexOfTheSchemaAndALaterLoadKeepsThem()
    {
        const string indexes = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name";
        var schema = site.Rows(indexes);
        Fixtures.WriteExport(site);

        site.ImportAll(Path.Combine(site.Dir, "export"));
        Assert.Equal(schema, site.Rows(indexes));

        site.ImportAll(Path.Combine(site.Dir, "export"));
        Assert.Equal(schema, site.Rows(indexes));
        Assert.Contains(site.Rows("EXPLAIN QUERY PLAN SELECT pid FROM fact WHERE sid = 1 AND code = 'C61'"), row => row.Contains("USING COVERING INDEX"));
    }
}
