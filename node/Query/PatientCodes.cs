using Midia.Node.Store;

namespace Midia.Node.Query;

/// <summary>
/// Codes with meaning beyond "a fact carries this code": the patient-level criteria (QUERY.md) and
/// the drugs WHO re-coded (MS drugs in 2024, trastuzumab in 2022; DOMAIN.md): a query for either
/// code finds both.
/// </summary>
public static class PatientCodes
{
    public static bool IsSex(TermCode code) => code is { System: CodeSystems.Loinc, Code: "LL2191-6" };

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

    static readonly (string Old, string New)[] AtcRevisions =
    [
        ("L04AA36", "L04AG08"), // ocrelizumab
        ("L04AA23", "L04AG03"), // natalizumab
        ("L04AA34", "L04AG06"), // alemtuzumab
        ("L04AA27", "L04AE01"), // fingolimod
        ("L04AA42", "L04AE03"), // siponimod
        ("L04AA31", "L04AK02"), // teriflunomide
        ("N07XX09", "L04AX07"), // dimethyl fumarate
        ("L01XC03", "L01FD01"), // trastuzumab, re-coded by WHO in 2022 (DOMAIN.md, breast cancer)
    ];

    /// <summary>The other ATC code of a re-coded drug (the MS table of DOMAIN.md, and trastuzumab), or null.</summary>
    public static string? AtcPartner(string code)
    {
        foreach (var (old, @new) in AtcRevisions)
        {
            if (code == old) return @new;
            if (code == @new) return old;
        }
        return null;
    }

    /// <summary>Age units whose value is completed years. UCUM `a`; `year`, `years` as the FDPG UI writes it.</summary>
    public static bool IsYears(string unit) => unit is "a" or "year" or "years";
}
