using Microsoft.Data.Sqlite;
using Midia.Node.Store;

namespace Midia.Node.Import;

/// <summary>
/// The import's writes to the site database: statements prepared once and reused for every
/// resource, caches for code-system ids and patient pids, and no upsert deletes for resources
/// that cannot be in the database yet (a first import of a type does none).
/// </summary>
sealed class SiteWrites : IDisposable
{
    readonly RawStatement upsertPatient, findPatient, findSystem, insertSystem;
    readonly RawStatement deleteFacts, deleteAttributes, insertFact, insertAttribute;
    readonly RawStatement deleteProvisions, insertProvision;
    readonly RawStatement typeHasFacts, anyConsent;
    readonly Dictionary<string, long> systems = new(StringComparer.Ordinal);
    readonly Dictionary<string, long> patients = new(StringComparer.Ordinal);

    /// <summary>
    /// Per resource type that had no rows when this importer first met it: hash codes of the ids
    /// written since. An id whose hash is new cannot have old rows, so its upsert skips the deletes
    /// (a hash collision only costs a needless delete). Null for a type that already had rows.
    /// </summary>
    readonly Dictionary<string, HashSet<int>?> freshTypes = new(StringComparer.Ordinal);

    public SiteWrites(SqliteConnection db)
    {
        upsertPatient = new(db, """
            INSERT INTO patient(resource_id, sex, birth_date, deceased, deceased_date, kvnr, family, given)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
            ON CONFLICT(resource_id) DO UPDATE SET
              sex = excluded.sex, birth_date = excluded.birth_date,
              deceased = excluded.deceased, deceased_date = excluded.deceased_date,
              -- the linkage pseudonym derives from identifying data: serve recomputes it when that changed
              linkage = CASE WHEN kvnr IS excluded.kvnr AND family IS excluded.family AND given IS excluded.given
                              AND birth_date IS excluded.birth_date AND sex IS excluded.sex THEN linkage END,
              kvnr = excluded.kvnr, family = excluded.family, given = excluded.given
            RETURNING pid
            """);
        findPatient = new(db, "SELECT pid FROM patient WHERE resource_id = ?1");
        findSystem = new(db, "SELECT sid FROM code_system WHERE uri = ?1");
        insertSystem = new(db, "INSERT INTO code_system(uri) VALUES (?1) RETURNING sid");
        deleteFacts = new(db, "DELETE FROM fact WHERE resource_type = ?1 AND resource_id = ?2");
        deleteAttributes = new(db, "DELETE FROM attribute WHERE resource_type = ?1 AND resource_id = ?2");
        insertFact = new(db, """
            INSERT INTO fact(pid, sid, code, kind, date, end_date, value_num, unit, value_sid, value_code, display, resource_type, resource_id, value_display)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
            """);
        insertAttribute = new(db, """
            INSERT INTO attribute(resource_type, resource_id, name, sid, code, value_num, unit)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            """);
        deleteProvisions = new(db, "DELETE FROM consent_provision WHERE source = ?1");
        insertProvision = new(db, """
            INSERT INTO consent_provision(pid, policy, permit, start, "end", source)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            """);
        typeHasFacts = new(db, """
            SELECT EXISTS (SELECT 1 FROM fact WHERE resource_type = ?1) OR EXISTS (SELECT 1 FROM attribute WHERE resource_type = ?1)
            """);
        anyConsent = new(db, "SELECT EXISTS (SELECT 1 FROM consent_provision WHERE source >= 'Consent/' AND source < 'Consent0')");
    }

    RawStatement[] Statements =>
    [
        upsertPatient, findPatient, findSystem, insertSystem, deleteFacts, deleteAttributes, insertFact, insertAttribute,
        deleteProvisions, insertProvision, typeHasFacts, anyConsent,
    ];

    public long Facts { get; private set; }

    /// <summary>A rolled-back file may have added pids and sids the database no longer has.</summary>
    public void ForgetCaches()
    {
        systems.Clear();
        patients.Clear();
    }

    public long UpsertPatient(string id, string sex, int? birth, bool deceased, int? deceasedDate, string? kvnr, string? family, string? given)
    {
        var s = upsertPatient;
        s.Bind(1, id);
        s.Bind(2, sex);
        s.Bind(3, birth);
        s.Bind(4, deceased ? 1L : 0L);
        s.Bind(5, deceasedDate);
        s.Bind(6, kvnr);
        s.Bind(7, family);
        s.Bind(8, given);
        var pid = s.RunScalar()!.Value;
        patients[id] = pid;
        return pid;
    }

    public long? FindPatient(string id)
    {
        if (patients.TryGetValue(id, out var pid)) return pid;
        findPatient.Bind(1, id);
        if (findPatient.RunScalar() is not long found) return null;
        patients[id] = found;
        return found;
    }

    /// <summary>The sid of a code system, by any spelling of its URI (aliases fold to one sid).</summary>
    public long SystemId(string uri)
    {
        if (systems.TryGetValue(uri, out var sid)) return sid;
        var canonical = CodeSystems.Canonical(uri);
        if (!systems.TryGetValue(canonical, out sid))
        {
            findSystem.Bind(1, canonical);
            if (findSystem.RunScalar() is long found) sid = found;
            else
            {
                insertSystem.Bind(1, canonical);
                sid = insertSystem.RunScalar()!.Value;
            }
            systems[canonical] = sid;
        }
        systems[uri] = sid;
        return sid;
    }

    bool MayExist(string type, string id)
    {
        if (!freshTypes.TryGetValue(type, out var written))
        {
            RawStatement probe;
            if (type == "Consent") probe = anyConsent;
            else
            {
                probe = typeHasFacts;
                probe.Bind(1, type);
            }
            written = probe.RunScalar() == 0 ? [] : null;
            freshTypes[type] = written;
        }
        return written is null || !written.Add(id.GetHashCode());
    }

    /// <summary>Upsert: a re-imported resource first loses what its previous version wrote.</summary>
    public void ReplaceResource(string type, string id)
    {
        if (!MayExist(type, id)) return;
        deleteFacts.Bind(1, type);
        deleteFacts.Bind(2, id);
        deleteFacts.Run();
        deleteAttributes.Bind(1, type);
        deleteAttributes.Bind(2, id);
        deleteAttributes.Run();
    }

    public void Fact(long pid, long sid, string code, FactKind kind, int? date, int? endDate,
        double? valueNum, string? unit, long? valueSid, string? valueCode, string? display, string type, string id, string? valueDisplay = null)
    {
        var f = insertFact;
        f.Bind(1, pid);
        f.Bind(2, sid);
        f.Bind(3, code);
        f.Bind(4, (long)kind);
        f.Bind(5, date);
        f.Bind(6, endDate);
        f.Bind(7, valueNum);
        f.Bind(8, unit);
        f.Bind(9, valueSid);
        f.Bind(10, valueCode);
        f.Bind(11, display);
        f.Bind(12, type);
        f.Bind(13, id);
        f.Bind(14, valueDisplay);
        f.Run();
        Facts++;
    }

    public void Attribute(string type, string id, string name, long? sid, string? code, double? valueNum = null, string? unit = null)
    {
        var a = insertAttribute;
        a.Bind(1, type);
        a.Bind(2, id);
        a.Bind(3, name);
        a.Bind(4, sid);
        a.Bind(5, code);
        a.Bind(6, valueNum);
        a.Bind(7, unit);
        a.Run();
    }

    public void ReplaceConsent(string id, string source)
    {
        if (!MayExist("Consent", id)) return;
        deleteProvisions.Bind(1, source);
        deleteProvisions.Run();
    }

    public void Provision(long pid, string policy, bool permit, int? start, int? end, string source)
    {
        var s = insertProvision;
        s.Bind(1, pid);
        s.Bind(2, policy);
        s.Bind(3, permit ? 1L : 0L);
        s.Bind(4, start);
        s.Bind(5, end);
        s.Bind(6, source);
        s.Run();
    }

    public void Dispose()
    {
        foreach (var s in Statements) s.Dispose();
    }
}
