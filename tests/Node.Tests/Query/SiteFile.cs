using Microsoft.Data.Sqlite;
using Midia.Node.Query;
using Midia.Node.Store;

namespace Midia.Node.Tests.Query;

/// <summary>A real site database in a temp directory, filled by direct inserts (no importer).</summary>
sealed class SiteFile : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("midia-query-").FullName;
    readonly Dictionary<string, long> sids = [];
    long nextPid = 1;
    long nextResource = 1;

    public SiteFile()
    {
        DatabasePath = Path.Combine(directory, "site.db");
        Connection = SiteDatabase.Open(DatabasePath);
        Evaluator = new CohortEvaluator(Connection);
    }

    public string DatabasePath { get; }
    public SqliteConnection Connection { get; }
    public CohortEvaluator Evaluator { get; }

    public long Patient(string sex, DateOnly? birth)
    {
        var pid = nextPid++;
        Run("INSERT INTO patient(pid, resource_id, sex, birth_date) VALUES ($1, $2, $3, $4)",
            pid, $"p{pid}", sex, birth is { } b ? Days.From(b) : null);
        return pid;
    }

    /// <summary>Inserts a fact; returns its resource id (for attributes). The kind follows the resource type unless given.</summary>
    public string Fact(long pid, string system, string code, DateOnly? date = null, double? value = null, string? unit = null,
        (string System, string Code)? concept = null, string resourceType = "Observation", string? resourceId = null, FactKind? kind = null, DateOnly? end = null)
    {
        resourceId ??= $"r{nextResource++}";
        kind ??= KindOf(resourceType);
        Run("""
            INSERT INTO fact(pid, sid, code, kind, date, end_date, value_num, unit, value_sid, value_code, resource_type, resource_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            """,
            pid, Sid(system), code, (int)kind, date is { } d ? Days.From(d) : null, end is { } e ? Days.From(e) : null, value, unit,
            concept is { } c ? Sid(c.System) : null, concept?.Code, resourceType, resourceId);
        return resourceId;
    }

    /// <summary>The kind the importer gives a resource type's facts (node/Import).</summary>
    public static FactKind KindOf(string resourceType) => resourceType switch
    {
        "Condition" => FactKind.Condition,
        "Procedure" => FactKind.Procedure,
        "MedicationStatement" or "MedicationAdministration" => FactKind.Medication,
        "MedicationRequest" => FactKind.Prescription,
        "ImagingStudy" => FactKind.Imaging,
        "Encounter" => FactKind.Encounter,
        "Specimen" => FactKind.Specimen,
        "DiagnosticReport" => FactKind.DiagnosticReport,
        _ => FactKind.Observation,
    };

    /// <summary>A reference from one resource to another (what the importer writes for Specimen diagnoses, encounters, ...).</summary>
    public void Link(string resourceType, string resourceId, string name, string targetType, string targetId) =>
        Run("INSERT INTO reference_link(resource_type, resource_id, name, target_type, target_id) VALUES ($1, $2, $3, $4, $5)",
            resourceType, resourceId, name, targetType, targetId);

    /// <summary>A consent provision of the site's own documents (as an imported Consent writes it).</summary>
    public void Provision(long pid, string policy, bool permit, DateOnly? start, DateOnly? end) =>
        Run("INSERT INTO consent_provision(pid, policy, permit, start, \"end\", source) VALUES ($1, $2, $3, $4, $5, $6)",
            pid, policy, permit ? 1 : 0, start is { } s ? Days.From(s) : null, end is { } e ? Days.From(e) : null, $"Consent/test-{pid}");

    public void Attribute(string resourceType, string resourceId, string name, (string System, string Code)? concept = null, double? value = null, string? unit = null) =>
        Run("INSERT INTO attribute(resource_type, resource_id, name, sid, code, value_num, unit) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            resourceType, resourceId, name, concept is { } c ? Sid(c.System) : null, concept?.Code, value, unit);

    /// <summary>Marks the data changed, as an import does, so the evaluator reloads demographics.</summary>
    public void Commit() => SiteDatabase.BumpDataVersion(Connection);

    public long Sid(string uri)
    {
        if (sids.TryGetValue(uri, out var sid)) return sid;
        Run("INSERT INTO code_system(uri) VALUES ($1)", uri);
        using var command = Connection.CreateCommand();
        command.CommandText = "SELECT sid FROM code_system WHERE uri = $1";
        command.Parameters.AddWithValue("$1", uri);
        return sids[uri] = (long)command.ExecuteScalar()!;
    }

    /// <summary>Many inserts in one transaction (plain BEGIN/COMMIT, so Run needs no transaction object).</summary>
    public void Batch(Action insert)
    {
        Run("BEGIN");
        insert();
        Run("COMMIT");
    }

    public void Run(string sql, params object?[] values)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = sql;
        for (int i = 0; i < values.Length; i++) command.Parameters.AddWithValue($"${i + 1}", values[i] ?? DBNull.Value);
        command.ExecuteNonQuery();
    }

    public long Count(string ccdl, DateOnly today) => Evaluator.Evaluate(CohortQuery.Parse(ccdl), Days.From(today)).Count();

    public void Dispose()
    {
        Connection.Dispose();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
    }
}
