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
    readonly RawStatement deleteLinks, insertLink, deleteMedicationUse, insertMedicationUse, findMedication, deleteMedication, insertMedication, medicationUses, insertSystemKind;
    readonly HashSet<(long Sid, FactKind Kind)> systemKinds = [];

    /// <summary>Medications read from or written to the database: a million statements refer to a few hundred drugs.</summary>
    readonly Dictionary<string, List<(long Sid, string Code, string? Display)>> medications = new(StringComparer.Ordinal);
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
              OR EXISTS (SELECT 1 FROM reference_link WHERE resource_type = ?1) OR EXISTS (SELECT 1 FROM medication_use WHERE resource_type = ?1)
              OR (?1 = 'Medication' AND EXISTS (SELECT 1 FROM medication))
            """);
        deleteLinks = new(db, "DELETE FROM reference_link WHERE resource_type = ?1 AND resource_id = ?2");
        insertLink = new(db, "INSERT INTO reference_link(resource_type, resource_id, name, target_type, target_id) VALUES (?1, ?2, ?3, ?4, ?5)");
        deleteMedicationUse = new(db, "DELETE FROM medication_use WHERE resource_type = ?1 AND resource_id = ?2");
        insertMedicationUse = new(db, """
            INSERT INTO medication_use(resource_type, resource_id, medication_id, pid, kind, date, end_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            """);
        findMedication = new(db, "SELECT sid, code, display FROM medication WHERE resource_id = ?1 ORDER BY rowid");
        deleteMedication = new(db, "DELETE FROM medication WHERE resource_id = ?1");
        insertMedication = new(db, "INSERT INTO medication(resource_id, sid, code, display) VALUES (?1, ?2, ?3, ?4)");
        medicationUses = new(db, "SELECT resource_type, resource_id, pid, kind, date, end_date FROM medication_use WHERE medication_id = ?1");
        insertSystemKind = new(db, "INSERT OR IGNORE INTO system_kind(sid, kind) VALUES (?1, ?2)");
        anyConsent = new(db, "SELECT EXISTS (SELECT 1 FROM consent_provision WHERE source >= 'Consent/' AND source < 'Consent0')");
    }

    RawStatement[] Statements =>
    [
        upsertPatient, findPatient, findSystem, insertSystem, deleteFacts, deleteAttributes, insertFact, insertAttribute,
        deleteProvisions, insertProvision, typeHasFacts, anyConsent,
        deleteLinks, insertLink, deleteMedicationUse, insertMedicationUse, findMedication, deleteMedication, insertMedication, medicationUses, insertSystemKind,
    ];

    public long Facts { get; private set; }

    /// <summary>A rolled-back file may have added pids and sids the database no longer has.</summary>
    public void ForgetCaches()
    {
        systems.Clear();
        patients.Clear();
        systemKinds.Clear();
        medications.Clear();
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
        foreach (var delete in new[] { deleteFacts, deleteAttributes, deleteLinks, deleteMedicationUse })
        {
            delete.Bind(1, type);
            delete.Bind(2, id);
            delete.Run();
        }
    }

    public void Link(string type, string id, string name, string targetType, string targetId)
    {
        var s = insertLink;
        s.Bind(1, type);
        s.Bind(2, id);
        s.Bind(3, name);
        s.Bind(4, targetType);
        s.Bind(5, targetId);
        s.Run();
    }

    /// <summary>A Medication resource's codes as the database holds them (from an earlier file or run); null if it has none stored.</summary>
    public List<(long Sid, string Code, string? Display)>? FindMedication(string id)
    {
        if (medications.TryGetValue(id, out var cached)) return cached;
        var found = new List<(long, string, string?)>();
        findMedication.Bind(1, id);
        findMedication.Read(r => found.Add((r.Int64(0), r.Text(1)!, r.Text(2))));
        if (found.Count == 0) return null;
        return medications[id] = found.Where(c => c.Item1 != NoCode).ToList();
    }

    /// <summary>
    /// Upserts a Medication's codes; the statements, administrations and requests that took their codes
    /// from an earlier version of it get the new codes (their dates are in medication_use). An entered-in-error
    /// or code-less Medication is kept with a marker row so references to it still resolve (to no drug).
    /// </summary>
    public void ReplaceMedication(string id, IReadOnlyList<(long Sid, string Code, string? Display)> codings)
    {
        bool existed = MayExist("Medication", id);
        if (existed)
        {
            deleteMedication.Bind(1, id);
            deleteMedication.Run();
        }
        foreach (var (sid, code, display) in codings) InsertMedication(id, sid, code, display);
        if (codings.Count == 0) InsertMedication(id, NoCode, "", null);
        medications[id] = [.. codings];
        if (!existed) return;
        var uses = new List<(string Type, string Id, long Pid, FactKind Kind, int? Date, int? End)>();
        medicationUses.Bind(1, id);
        medicationUses.Read(r => uses.Add((r.Text(0)!, r.Text(1)!, r.Int64(2), (FactKind)r.Int64(3), r.NullableInt32(4), r.NullableInt32(5))));
        foreach (var (type, resource, pid, kind, date, end) in uses)
        {
            deleteFacts.Bind(1, type);
            deleteFacts.Bind(2, resource);
            deleteFacts.Run();
            foreach (var (sid, code, display) in codings)
                Fact(pid, sid, code, kind, date, end, null, null, null, null, display, type, resource);
        }
    }

    /// <summary>The sid of a Medication without codes: its marker row says "known, but no drug code".</summary>
    public const long NoCode = 0;

    void InsertMedication(string id, long sid, string code, string? display)
    {
        var m = insertMedication;
        m.Bind(1, id);
        m.Bind(2, sid);
        m.Bind(3, code);
        m.Bind(4, display);
        m.Run();
    }

    public void MedicationUse(string type, string id, string medicationId, long pid, FactKind kind, int? date, int? end)
    {
        var u = insertMedicationUse;
        u.Bind(1, type);
        u.Bind(2, id);
        u.Bind(3, medicationId);
        u.Bind(4, pid);
        u.Bind(5, (long)kind);
        u.Bind(6, date);
        u.Bind(7, end);
        u.Run();
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
        if (systemKinds.Add((sid, kind)))
        {
            insertSystemKind.Bind(1, sid);
            insertSystemKind.Bind(2, (long)kind);
            insertSystemKind.Run();
        }
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
