using Midia.Care.Codes;

namespace Midia.Portal.Research;

/// <summary>A code the builder offers: its CCDL context, term code, and the kind of value filter it takes.</summary>
public sealed record CatalogueCode(string Context, string System, string Code, string Display, string Filter, string? Unit = null, string? English = null)
{
    /// <summary>What the search list shows and matches: display, English name, code and system.</summary>
    public string Label => $"{Display}{(English is null ? "" : $" ({English})")} — {Code} · {SystemName(System)}";

    /// <summary>The last path segment of a system URI (icd-10-gm, loinc.org, ms-assessment): short enough to show and to type.</summary>
    public static string SystemName(string system) => system.TrimEnd('/').Split('/')[^1];

    public bool Matches(string text) =>
        Display.Contains(text, StringComparison.OrdinalIgnoreCase) || Code.Contains(text, StringComparison.OrdinalIgnoreCase)
        || System.Contains(text, StringComparison.OrdinalIgnoreCase) || English?.Contains(text, StringComparison.OrdinalIgnoreCase) == true;
}

/// <summary>
/// The codes the network knows — the vocabulary its sites' data is written in (care/Codes/Vocabulary.cs,
/// the same list `midia dev synth` writes from) — plus CCDL's two patient criteria: what the builder's
/// code search finds. Unknown codes are not an error in CCDL, so a researcher may still type any code
/// into the query text.
/// </summary>
public static class CodeCatalogue
{
    const string Loinc = Vocabulary.Loinc;

    public static readonly IReadOnlyList<CatalogueCode> Codes = Build();

    static List<CatalogueCode> Build()
    {
        List<CatalogueCode> codes =
        [
            // CCDL's patient criteria (node/Query/PatientCodes.cs): not data codes, but what a query asks about a patient.
            new("Patient", Loinc, "LL2191-6", "Geschlecht", "sex", English: "Sex"),
            new("Patient", Loinc, "30525-0", "Alter", "quantity", "a", English: "Age"),
        ];
        codes.AddRange(Vocabulary.Categories.Concat(Vocabulary.Conditions).Select(c => From("Diagnose", c, "none")));
        codes.AddRange(Vocabulary.Observations.Select(o => From("Laboruntersuchung", o.Code, o.Unit is null ? "positive" : "quantity", o.Unit?.Code)));
        codes.AddRange(Vocabulary.Medications.Select(c => From("Medikamentenverabreichung", c, "none")));
        codes.AddRange(Vocabulary.Procedures.Select(c => From("Prozedur", c, "none")));
        return codes.DistinctBy(c => (c.System, c.Code)).ToList();
    }

    static CatalogueCode From(string context, Concept c, string filter, string? unit = null) =>
        new(context, c.System, c.Code, c.Display, filter, unit, c.English);

    public static IEnumerable<CatalogueCode> Search(string? text) =>
        string.IsNullOrWhiteSpace(text) ? Codes : Codes.Where(c => c.Matches(text.Trim()));

    public const string Example = """
        {
          "version": "2",
          "display": "Women with breast cancer",
          "inclusionCriteria": [
            [{"context": {"system": "fdpg.mii.cds", "code": "Patient", "display": "Patient"},
              "termCodes": [{"system": "http://loinc.org", "code": "LL2191-6", "display": "Geschlecht"}],
              "valueFilter": {"type": "concept", "selectedConcepts": [{"system": "http://hl7.org/fhir/administrative-gender", "code": "female", "display": "female"}]}}],
            [{"context": {"system": "fdpg.mii.cds", "code": "Diagnose", "display": "Diagnose"},
              "termCodes": [{"system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "code": "C50", "display": "Bösartige Neubildung der Brustdrüse"}]}]
          ]
        }
        """;
}
