using Microsoft.Data.Sqlite;
using Midia.Node.Store;

namespace Midia.Node.Import;

/// <summary>
/// The import's writes to the site database as prepared statements reused for every resource,
/// with caches for code-system ids and patient pids (a fact insert is then one statement).
/// </summary>
sealed class SiteWrites : IDisposable
{
    readonly SqliteConnection db;
    readonly List<SqliteCommand> commands = [];
    readonly SqliteCommand upsertPatient, findPatient, findSystem, insertSystem;
    readonly RawStatement deleteFacts, deleteAttributes, insertFact, insertAttribute;
    readonly SqliteCommand deleteProvisions, insertProvision;
    readonly Dictionary<string, long> systems = new(StringComparer.Ordinal);
    readonly Dictionary<string, long> patients = new(StringComparer.Ordinal);

    public SiteWrites(SqliteConnection db)
    {
        this.db = db;
        upsertPatient = Prepare("""
            INSERT INTO patient(resource_id, sex, birth_date, deceased, deceased_date, kvnr, family, given)
            VALUES ($id, $sex, $birth, $deceased, $deceased_date, $kvnr, $family, $given)
            ON CONFLICT(resource_id) DO UPDATE SET
              sex = excluded.sex, birth_date = excluded.birth_date,
              deceased = excluded.deceased, deceased_date = excluded.deceased_date,
              -- the linkage pseudonym derives from identifying data: recompute (serve) when it changed
              linkage = CASE WHEN kvnr IS excluded.kvnr AND family IS excluded.family AND given IS excluded.given
                              AND birth_date IS excluded.birth_date AND sex IS excluded.sex THEN linkage END,
              kvnr = excluded.kvnr, family = excluded.family, given = excluded.given
            RETURNING pid
            """, "$id", "$sex", "$birth", "$deceased", "$deceased_date", "$kvnr", "$family", "$given");
        findPatient = Prepare("SELECT pid FROM patient WHERE resource_id = $id", "$id");
        findSystem = Prepare("SELECT sid FROM code_system WHERE uri = $uri", "$uri");
        insertSystem = Prepare("INSERT INTO code_system(uri) VALUES ($uri) RETURNING sid", "$uri");
        deleteFacts = new RawStatement(db, "DELETE FROM fact WHERE resource_type = ?1 AND resource_id = ?2");
        deleteAttributes = new RawStatement(db, "DELETE FROM attribute WHERE resource_type = ?1 AND resource_id = ?2");
        insertFact = new RawStatement(db, """
            INSERT INTO fact(pid, sid, code, kind, date, end_date, value_num, unit, value_sid, value_code, display, resource_type, resource_id)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
            """);
        insertAttribute = new RawStatement(db, """
            INSERT INTO attribute(resource_type, resource_id, name, sid, code, value_num, unit)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            """);
        deleteProvisions = Prepare("DELETE FROM consent_provision WHERE source = $source", "$source");
        insertProvision = Prepare("""
            INSERT INTO consent_provision(pid, policy, permit, start, end, source)
            VALUES ($pid, $policy, $permit, $start, $end, $source)
            """, "$pid", "$policy", "$permit", "$start", "$end", "$source");
    }

    SqliteCommand Prepare(string sql, params string[] names)
    {
        var command = db.CreateCommand();
        command.CommandText = sql;
        foreach (var name in names) command.Parameters.Add(new SqliteParameter(name, DBNull.Value));
        commands.Add(command);
        return command;
    }

    public SqliteTransaction? Transaction
    {
        set { foreach (var c in commands) c.Transaction = value; }
    }

    public long Facts { get; set; }

    /// <summary>A rolled-back file may have added pids and sids the database no longer has.</summary>
    public void ForgetCaches()
    {
        systems.Clear();
        patients.Clear();
    }

    static object Value(object? v) => v ?? DBNull.Value;

    static void Bind(SqliteCommand command, params object?[] values)
    {
        for (int i = 0; i < values.Length; i++) command.Parameters[i].Value = Value(values[i]);
    }

    public long UpsertPatient(string id, string sex, int? birth, bool deceased, int? deceasedDate, string? kvnr, string? family, string? given)
    {
        Bind(upsertPatient, id, sex, birth, deceased ? 1 : 0, deceasedDate, kvnr, family, given);
        var pid = (long)upsertPatient.ExecuteScalar()!;
        patients[id] = pid;
        return pid;
    }

    public long? FindPatient(string id)
    {
        if (patients.TryGetValue(id, out var pid)) return pid;
        findPatient.Parameters[0].Value = id;
        if (findPatient.ExecuteScalar() is long found)
        {
            patients[id] = found;
            return found;
        }
        return null;
    }

    /// <summary>The sid of a code system, by any spelling of its URI (aliases fold to one sid).</summary>
    public long SystemId(string uri)
    {
        if (systems.TryGetValue(uri, out var sid)) return sid;
        var canonical = CodeSystems.Canonical(uri);
        if (!systems.TryGetValue(canonical, out sid))
        {
            findSystem.Parameters[0].Value = canonical;
            if (findSystem.ExecuteScalar() is long found) sid = found;
            else
            {
                insertSystem.Parameters[0].Value = canonical;
                sid = (long)insertSystem.ExecuteScalar()!;
            }
            systems[canonical] = sid;
        }
        systems[uri] = sid;
        return sid;
    }

    /// <summary>Upsert: a re-imported resource first loses what its previous version wrote.</summary>
    public void ReplaceResource(string type, string id)
    {
        deleteFacts.Bind(1, type);
        deleteFacts.Bind(2, id);
        deleteFacts.Run();
        deleteAttributes.Bind(1, type);
        deleteAttributes.Bind(2, id);
        deleteAttributes.Run();
    }

    public void Fact(long pid, long sid, string code, FactKind kind, int? date, int? endDate,
        double? valueNum, string? unit, long? valueSid, string? valueCode, string? display, string type, string id)
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

    public void ReplaceConsent(string source)
    {
        deleteProvisions.Parameters[0].Value = source;
        deleteProvisions.ExecuteNonQuery();
    }

    public void Provision(long pid, string policy, bool permit, int? start, int? end, string source)
    {
        Bind(insertProvision, pid, policy, permit ? 1 : 0, start, end, source);
        insertProvision.ExecuteNonQuery();
    }

    public void Dispose()
    {
        foreach (var c in commands) c.Dispose();
        foreach (var s in new[] { deleteFacts, deleteAttributes, insertFact, insertAttribute }) s.Dispose();
    }
}
