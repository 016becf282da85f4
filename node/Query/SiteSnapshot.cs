using Microsoft.Data.Sqlite;
using Midia.Node.Store;

namespace Midia.Node.Query;

/// <summary>
/// What the engine keeps in memory per data version: every patient's sex and birth date (so sex
/// and age criteria are array scans, never a table scan per query), the code-system ids and the
/// attribute names the data carries. Reloaded when SiteDatabase.DataVersion or MAX(pid) changes.
/// </summary>
sealed class SiteSnapshot
{
    public const byte NoPatient = 255;
    public const int NoBirthDate = int.MinValue;

    public required long Version { get; init; }
    public required long MaxPid { get; init; }
    public required PatientSet All { get; init; }
    /// <summary>Index into PatientCodes.Genders by pid; NoPatient where no patient has that pid.</summary>
    public required byte[] Sex { get; init; }
    /// <summary>Days by pid; NoBirthDate where unknown.</summary>
    public required int[] Birth { get; init; }
    public required Dictionary<string, long> Sids { get; init; }
    public required HashSet<string> AttributeNames { get; init; }
    /// <summary>The names of the references between resources the data carries (reference_link.name).</summary>
    public required HashSet<string> ReferenceNames { get; init; }
    /// <summary>The kinds of facts each code system occurs in (system_kind); a system missing here may be of any kind.</summary>
    public required Dictionary<long, HashSet<FactKind>> SystemKinds { get; init; }
    /// <summary>The patients of each gender (index as in PatientCodes.Genders).</summary>
    public required PatientSet[] BySex { get; init; }

    /// <summary>Rows each fact criterion's scans return, by canonical criterion JSON: what the
    /// planner orders groups by. Filled on first use, dropped with the snapshot.</summary>
    public Dictionary<string, long> RowCounts { get; } = new(StringComparer.Ordinal);

    /// <summary>The distinct codes in a code span, by (sid, from, until): probes seek each.</summary>
    public Dictionary<(long Sid, string From, string? Until), List<string>?> CodesUnder { get; } = [];

    public static SiteSnapshot Load(SqliteConnection connection, (long Version, long MaxPid) key)
    {
        var maxPid = key.MaxPid;
        var all = new PatientSet(maxPid);
        var sex = new byte[maxPid + 1];
        var birth = new int[maxPid + 1];
        Array.Fill(sex, NoPatient);
        Array.Fill(birth, NoBirthDate);
        using (var command = connection.CreateCommand())
        {
            // The gender index is computed in SQL: a million GetString calls would allocate a million strings.
            var cases = string.Concat(PatientCodes.Genders.Select((gender, index) => $" WHEN '{gender}' THEN {index}"));
            command.CommandText = $"SELECT pid, CASE sex{cases} ELSE {Array.IndexOf(PatientCodes.Genders, "unknown")} END, birth_date FROM patient";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var pid = reader.GetInt64(0);
                if (pid < 0 || pid > maxPid) continue;
                all.Add(pid);
                sex[pid] = (byte)reader.GetInt64(1);
                if (!reader.IsDBNull(2)) birth[pid] = checked((int)reader.GetInt64(2));
            }
        }

        var sids = new Dictionary<string, long>(StringComparer.Ordinal);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT sid, uri FROM code_system";
            using var reader = command.ExecuteReader();
            while (reader.Read()) sids[reader.GetString(1)] = reader.GetInt64(0);
        }

        // Distinct names by skipping through the attribute_name index: one seek per name, not a scan.
        var names = DistinctNames(connection, "attribute");
        // A database written before references and system kinds were kept (opened read-only) has neither table.
        var tables = new HashSet<string>(StringComparer.Ordinal);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('reference_link', 'system_kind')";
            using var reader = command.ExecuteReader();
            while (reader.Read()) tables.Add(reader.GetString(0));
        }
        var references = tables.Contains("reference_link") ? DistinctNames(connection, "reference_link") : new HashSet<string>(StringComparer.Ordinal);
        var systemKinds = new Dictionary<long, HashSet<FactKind>>();
        if (tables.Contains("system_kind"))
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT sid, kind FROM system_kind";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var sid = reader.GetInt64(0);
                if (!systemKinds.TryGetValue(sid, out var kinds)) systemKinds[sid] = kinds = [];
                kinds.Add((FactKind)reader.GetInt64(1));
            }
        }
        var bySex = PatientCodes.Genders.Select(_ => new PatientSet(maxPid)).ToArray();
        for (long pid = 0; pid <= maxPid; pid++)
            if (sex[pid] != NoPatient) bySex[sex[pid]].Add(pid);
        return new SiteSnapshot { Version = key.Version, MaxPid = maxPid, All = all, Sex = sex, Birth = birth, Sids = sids, AttributeNames = names, BySex = bySex,
            ReferenceNames = references, SystemKinds = systemKinds };
    }

    static HashSet<string> DistinctNames(SqliteConnection connection, string table)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT MIN(name) FROM {table} WHERE name > $after";
        var after = command.Parameters.AddWithValue("$after", "");
        while (command.ExecuteScalar() is string name)
        {
            names.Add(name);
            after.Value = name;
        }
        return names;
    }
}
