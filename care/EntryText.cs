using System.Globalization;
using Midia.Protos.Node.V1;

namespace Midia.Care;

/// <summary>
/// One summary entry in words, the same in the terminal, the IPS narrative and the portal: its
/// value with unit, and its code with the short name of its code system. Entries carry canonical
/// system URIs (node.proto), so the names are looked up as they come.
/// </summary>
public static class EntryText
{
    static readonly Dictionary<string, string> StandardNames = new(StringComparer.Ordinal)
    {
        ["http://fhir.de/CodeSystem/bfarm/icd-10-gm"] = "ICD-10-GM",
        ["http://fhir.de/CodeSystem/bfarm/ops"] = "OPS",
        ["http://fhir.de/CodeSystem/bfarm/atc"] = "ATC",
        ["http://loinc.org"] = "LOINC",
        ["http://snomed.info/sct"] = "SNOMED",
    };
    const string Dicom = "http://dicom.nema.org/resources/ontology/DCM";
    const string MidiaMs = "https://fhir.midia-hub.de/CodeSystem/ms-assessment";
    const string MidiaCodeSystems = "https://fhir.midia-hub.de/CodeSystem/";

    public static string Value(SummaryEntry e) =>
        e.HasValue ? $"{Number(e.Value)} {Unit(e.Unit)}".TrimEnd()
        : e.ValueCode.Length > 0 ? CodedValue(e)
        : e.ValueDisplay;

    /// <summary>"Positive (SNOMED 369833007)": the value's term with its code; the code alone when the site sent no term.</summary>
    static string CodedValue(SummaryEntry e)
    {
        // A standard system's code needs its name (SNOMED 369833007); a grading's own code reads alone (T4, V, tumour-free).
        var code = StandardNames.ContainsKey(e.ValueSystem) ? $"{SystemName(e.ValueSystem)} {e.ValueCode}" : e.ValueCode;
        return e.ValueDisplay.Length == 0 || e.ValueDisplay == e.ValueCode ? code : $"{e.ValueDisplay} ({code})";
    }

    public static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>A unit as a person reads it: UCUM annotations such as {score} or {count} mean "no unit".</summary>
    public static string Unit(string unit) => unit.StartsWith('{') && unit.EndsWith('}') ? "" : unit;

    /// <summary>"ICD-10-GM G35": the code with the short name of its system.</summary>
    public static string Code(SummaryEntry e) => $"{SystemName(e.System)} {e.Code}".Trim();

    public static string SystemName(string system) => system switch
    {
        _ when StandardNames.TryGetValue(system, out var name) => name,
        Dicom => "DICOM",
        MidiaMs => "MS",
        _ when system.StartsWith(MidiaCodeSystems, StringComparison.Ordinal) => system[MidiaCodeSystems.Length..],
        _ => system,
    };
}
