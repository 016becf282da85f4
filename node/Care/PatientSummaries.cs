using System.Globalization;
using Microsoft.Data.Sqlite;
using Midia.Node.Store;
using Midia.Protos.Node.V1;

namespace Midia.Node.Care;

/// <summary>
/// A patient's part of the cross-site summary: every fact this site holds for the given pids as
/// IPS-aligned entries — coded items with their dates, values and units, nothing free-text beyond
/// the code's display, a coded value's term and an ImagingStudy's description. Oldest first; undated entries last.
/// </summary>
public static class PatientSummaries
{
    public const string Problems = "problems", Medications = "medications", Results = "results",
        Procedures = "procedures", Imaging = "imaging", Staging = "staging";

    /// <summary>The sections in the order a detail line names them.</summary>
    public static readonly IReadOnlyList<string> Sections = [Problems, Medications, Results, Procedures, Imaging, Staging];

    /// <summary>
    /// SNOMED CT codes of the MII oncology module (DOMAIN.md) that are staging or follow-up, not
    /// results: TNM categories, stage groups, the follow-up assessment and its components.
    /// </summary>
    public static readonly IReadOnlySet<string> StagingCodes = new HashSet<string>(StringComparer.Ordinal)
    {
        "399504009", "399534004", "399387003",  // cT, cN, cM
        "384625004", "371494008",               // pT, pN
        "399537006", "399588009",               // stage group clinical, pathological
        "396432002",                            // follow-up assessment (oBDS Verlauf)
        "445200009", "399656008", "399608002",  // follow-up: tumour, lymph nodes, distant metastases
    };

    public static string Kind(FactKind kind) => kind switch
    {
        FactKind.Condition or FactKind.CauseOfDeath => "condition",
        FactKind.Observation => "observation",
        FactKind.Medication or FactKind.Prescription => "medication",
        FactKind.Procedure => "procedure",
        FactKind.Imaging => "imaging",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown fact kind"),
    };

    public static string Section(FactKind kind, string system, string code) => kind switch
    {
        FactKind.Condition or FactKind.CauseOfDeath => Problems,
        FactKind.Medication or FactKind.Prescription => Medications,
        FactKind.Procedure => Procedures,
        FactKind.Imaging => Imaging,
        FactKind.Observation when system == CodeSystems.Snomed && StagingCodes.Contains(code) => Staging,
        _ => Results,
    };

    public static string Date(long days) => Days.ToDate(days).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Every fact of the patients, oldest first (undated last), each as one entry.</summary>
    public static List<SummaryEntry> Read(SqliteConnection connection, IEnumerable<long> pids)
    {
        var entries = new List<(long Date, long Fid, SummaryEntry Entry)>();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT f.fid, f.kind, s.uri, f.code, f.display, f.date, f.end_date, f.value_num, f.unit, v.uri, f.value_code, f.value_display
            FROM fact f JOIN code_system s ON s.sid = f.sid LEFT JOIN code_system v ON v.sid = f.value_sid
            WHERE f.pid = $pid AND f.kind IN (1, 2, 3, 4, 5, 6, 10)
            """;
        var pid = command.Parameters.Add("$pid", SqliteType.Integer);
        foreach (var p in pids.Distinct())
        {
            pid.Value = p;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var kind = (FactKind)reader.GetInt32(1);
                var system = reader.GetString(2);
                var code = reader.GetString(3);
                var entry = new SummaryEntry
                {
                    Kind = Kind(kind),
                    Section = Section(kind, system, code),
                    System = system,
                    Code = code,
                    Display = reader.IsDBNull(4) ? "" : reader.GetString(4),
                    Date = reader.IsDBNull(5) ? "" : Date(reader.GetInt64(5)),
                    EndDate = reader.IsDBNull(6) ? "" : Date(reader.GetInt64(6)),
                    Unit = reader.IsDBNull(8) ? "" : reader.GetString(8),
                    ValueSystem = reader.IsDBNull(9) ? "" : reader.GetString(9),
                    ValueCode = reader.IsDBNull(10) ? "" : reader.GetString(10),
                    ValueDisplay = reader.IsDBNull(11) ? "" : reader.GetString(11),
                };
                if (!reader.IsDBNull(7)) entry.Value = reader.GetDouble(7);
                entries.Add((reader.IsDBNull(5) ? long.MaxValue : reader.GetInt64(5), reader.GetInt64(0), entry));
            }
        }
        return [.. entries.OrderBy(e => e.Date).ThenBy(e => e.Fid).Select(e => e.Entry)];
    }

    /// <summary>What was released, per section, for the access log: "problems 3, results 12".</summary>
    public static string Detail(IEnumerable<SummaryEntry> entries)
    {
        var counts = entries.GroupBy(e => e.Section).ToDictionary(g => g.Key, g => g.Count());
        var parts = Sections.Where(counts.ContainsKey).Select(s => $"{s} {counts[s]}").ToList();
        return parts.Count == 0 ? "no entries" : string.Join(", ", parts);
    }
}
