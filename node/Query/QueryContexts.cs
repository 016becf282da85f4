using Midia.Node.Store;

namespace Midia.Node.Query;

/// <summary>
/// The contexts of the FDPG ontology (system fdpg.mii.cds) this node evaluates: which kinds of
/// facts a criterion's term codes are read in. A SNOMED code can be a diagnosis and an observation
/// value; in context Diagnose it is read only among diagnoses. docs/QUERY-SEMANTICS.md has the table.
/// </summary>
public static class QueryContexts
{
    public const string System = "fdpg.mii.cds";

    public static readonly QueryContext Patient = new("Patient", []);
    public static readonly QueryContext Consent = new("Einwilligung", []);
    public static readonly QueryContext Diagnosis = new("Diagnose", [FactKind.Condition]);
    public static readonly QueryContext CauseOfDeath = new("Todesursache", [FactKind.CauseOfDeath]);
    public static readonly QueryContext Laboratory = new("Laboruntersuchung", [FactKind.Observation]);
    public static readonly QueryContext Procedure = new("Prozedur", [FactKind.Procedure]);
    public static readonly QueryContext Administration = new("Medikamentenverabreichung", [FactKind.Medication]);
    public static readonly QueryContext Prescription = new("Medikamentenverordnung", [FactKind.Prescription]);
    public static readonly QueryContext Medication = new("Medikation", [FactKind.Medication, FactKind.Prescription]);
    public static readonly QueryContext Specimen = new("Bioprobe", [FactKind.Specimen]);
    public static readonly QueryContext Encounter = new("Fall", [FactKind.Encounter]);
    public static readonly QueryContext Imaging = new("Bildgebung", [FactKind.Imaging]);
    public static readonly QueryContext Report = new("Befundbericht", [FactKind.DiagnosticReport]);

    /// <summary>Context codes as the FDPG portal and the CCDL examples write them (German and English), case-insensitive.</summary>
    static readonly Dictionary<string, QueryContext> ByCode = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Patient"] = Patient,
        ["Einwilligung"] = Consent, ["Consent"] = Consent,
        ["Diagnose"] = Diagnosis, ["Condition"] = Diagnosis,
        ["Todesursache"] = CauseOfDeath,
        ["Laboruntersuchung"] = Laboratory, ["Observation"] = Laboratory,
        ["Prozedur"] = Procedure, ["Procedure"] = Procedure,
        // A MedicationStatement documents that the drug was taken: it counts as an administration.
        ["Medikamentenverabreichung"] = Administration, ["MedicationAdministration"] = Administration, ["MedicationStatement"] = Administration,
        ["Medikamentenverordnung"] = Prescription, ["MedicationRequest"] = Prescription,
        ["Medikation"] = Medication, ["Medication"] = Medication,
        ["Bioprobe"] = Specimen, ["Specimen"] = Specimen,
        ["Fall"] = Encounter, ["Encounter"] = Encounter,
        ["Bildgebung"] = Imaging, ["ImagingStudy"] = Imaging,
        ["Befundbericht"] = Report, ["Molekulargenetischer Befundbericht"] = Report, ["DiagnosticReport"] = Report,
    };

    public static QueryContext? Find(string code) => ByCode.GetValueOrDefault(code.Trim());

    public static string Known => string.Join(", ", ByCode.Values.Distinct().Select(c => c.Name));
}
