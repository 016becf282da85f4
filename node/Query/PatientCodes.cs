using Midia.Node.Store;

namespace Midia.Node.Query;

/// <summary>
/// Codes with meaning beyond "a fact carries this code": the patient-level criteria (QUERY.md) and
/// the drugs WHO re-coded (MS drugs in 2024, trastuzumab in 2022; DOMAIN.md): a query for either
/// code finds both.
/// </summary>
public static class PatientCodes
{
    /// <summary>LOINC LL2191-6, or SNOMED 263495000 as the FDPG ontology writes "Geschlecht".</summary>
    public static bool IsSex(TermCode code) => code is { System: CodeSystems.Loinc, Code: "LL2191-6" } or { System: CodeSystems.Snomed, Code: "263495000" };

    public static bool IsAge(TermCode code) =>
        code is { System: CodeSystems.Loinc, Code: "30525-0" } or { System: CodeSystems.Snomed, Code: "424144002" };

    public static readonly TermCode Sex = new(CodeSystems.Loinc, "LL2191-6");
    public static readonly TermCode Age = new(CodeSystems.Loinc, "30525-0");

    /// <summary>FHIR administrative gender, the values of patient.sex.</summary>
    public static readonly string[] Genders = ["female", "male", "other", "unknown"];

    /// <summary>The patient.sex value a CCDL sex concept means; CCDL uses F/M and female/male, German
    /// data D (divers) and X (unbestimmt), both carried as FHIR `other`. Null: an unknown code.</summary>
    public static string? Gender(string code) => code.Trim().ToLowerInvariant() switch
    {
        "f" or "female" => "female",
        "m" or "male" => "male",
        "o" or "other" or "d" or "x" or "diverse" => "other",
        "u" or "unknown" => "unknown",
        _ => null,
    };

    /// <summary>The other ATC code of a re-coded drug (the MS table of DOMAIN.md, and trastuzumab), or null.</summary>
    public static string? AtcPartner(string code) => Midia.Care.Codes.CodeHierarchy.AtcPartner(code);

    /// <summary>Age units whose value is completed years. UCUM `a`; `year`, `years` as the FDPG UI writes it.</summary>
    public static bool IsYears(string unit) => unit is "a" or "year" or "years";
}
