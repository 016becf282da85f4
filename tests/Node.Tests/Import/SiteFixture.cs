using Microsoft.Data.Sqlite;
using Midia.Node.Import;
using Midia.Node.Store;

namespace Midia.Node.Tests.Import;

/// <summary>A temporary folder with a site database and FHIR files written by the test.</summary>
sealed class SiteFixture : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("midia-import-test-").FullName;
    public string DbPath => Path.Combine(Dir, "site.db");

    public string Write(string name, string content)
    {
        var path = Path.Combine(Dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>NDJSON from one resource per array element (each written on one line).</summary>
    public string WriteNdjson(string name, params string[] resources) =>
        Write(name, string.Join("\n", resources.Select(r => r.ReplaceLineEndings(" "))) + "\n");

    public ImportReport Import(string path, bool skipUnknown = false)
    {
        using var db = SiteDatabase.Open(DbPath);
        using var importer = new FhirImporter(db);
        return importer.ImportFile(path, skipUnknown);
    }

    public List<ImportReport> ImportAll(params string[] paths)
    {
        using var db = SiteDatabase.Open(DbPath);
        using var importer = new FhirImporter(db);
        return [.. FhirImporter.CollectFiles(paths).Select(f => importer.ImportFile(f))];
    }

    /// <summary>The files as one import run (`midia-node import`): references between them resolve in any order; unused types skipped.</summary>
    public List<ImportReport> ImportRun(IReadOnlyList<string> files, bool skipUnknown = true)
    {
        using var db = SiteDatabase.Open(DbPath);
        using var importer = new FhirImporter(db);
        return [.. importer.ImportFiles(files, skipUnknown)];
    }

    public List<string> Rows(string sql)
    {
        using var db = SiteDatabase.Open(DbPath);
        using var command = db.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
            rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        return rows;
    }

    public long Scalar(string sql) => long.Parse(Rows(sql).Single());

    /// <summary>
    /// Every row of every table the import writes, in a fixed order: the database's content.
    /// Without row ids, re-inserted facts and provisions compare equal to the ones they replaced.
    /// </summary>
    public string Dump(bool withMeta = true, bool withRowIds = true)
    {
        var factColumns = "pid, sid, code, kind, date, end_date, value_num, unit, value_sid, value_code, display, resource_type, resource_id";
        var consentColumns = "pid, linkage, policy, permit, start, \"end\", source, seq";
        var queries = new List<string>
        {
            "SELECT * FROM patient ORDER BY pid",
            "SELECT * FROM code_system ORDER BY sid",
            $"SELECT {(withRowIds ? "fid, " : "")}{factColumns} FROM fact ORDER BY {(withRowIds ? "fid" : factColumns)}",
            "SELECT * FROM attribute ORDER BY resource_type, resource_id, name, sid, code, value_num, unit",
            $"SELECT {(withRowIds ? "id, " : "")}{consentColumns} FROM consent_provision ORDER BY {(withRowIds ? "id" : consentColumns)}",
            "SELECT * FROM reference_link ORDER BY resource_type, resource_id, name, target_type, target_id",
            "SELECT resource_id, sid, code, display FROM medication ORDER BY resource_id, sid, code",
            "SELECT * FROM medication_use ORDER BY resource_type, resource_id",
        };
        if (withMeta) queries.Add("SELECT * FROM meta ORDER BY key");
        return string.Join("\n", queries.Select(q => q + ":\n" + string.Join("\n", Rows(q))));
    }

    /// <summary>Days since 1970-01-01, computed here independently of the code under test.</summary>
    public static int Day(int year, int month, int day) => (int)(new DateTime(year, month, day) - new DateTime(1970, 1, 1)).TotalDays;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
