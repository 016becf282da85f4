namespace Midia.Portal.Research;

/// <summary>A code the builder offers: its CCDL context, term code, and the kind of value filter it takes.</summary>
public sealed record CatalogueCode(string Context, string System, string Code, string Display, string Filter, string? Unit = null);

/// <summary>
/// The codes the network knows (the synthetic sites' data, docs/CODES.md and docs/DATA.md):
/// what the builder's code search finds. Unknown codes are not an error in CCDL, so a researcher
/// may still type any code into the query text.
/// </summary>
public static class CodeCatalogue
{
    const string Icd = "http://fhir.de/CodeSystem/bfarm/icd-10-gm", Loinc = "http://loinc.org", Atc = "http://fhir.de/CodeSystem/bfarm/atc",
        Snomed = "http://snomed.info/sct", Ms = "https://fhir.midia-hub.de/CodeSystem/ms-assessment", Gleason = "https://fhir.midia-hub.de/CodeSystem/gleason";

    public static readonly IReadOnlyList<CatalogueCode> Codes =
    [
        new("Patient", Loinc, "LL2191-6", "Sex (Geschlecht)", "sex"),
        new("Patient", Loinc, "30525-0", "Age (Alter)", "quantity", "a"),
        new("Diagnose", Icd, "C50", "Breast cancer (Bösartige Neubildung der Brustdrüse)", "none"),
        new("Diagnose", Icd, "C61", "Prostate cancer (Bösartige Neubildung der Prostata)", "none"),
        new("Diagnose", Icd, "G35", "Multiple sclerosis (Multiple Sklerose)", "none"),
        new("Laboruntersuchung", Loinc, "2857-1", "PSA (Prostate specific Ag)", "quantity", "ng/mL"),
        new("Laboruntersuchung", Loinc, "83088-5", "CA 15-3", "quantity", "U/mL"),
        new("Laboruntersuchung", Loinc, "48676-1", "HER2 [Interpretation] in Tissue", "positive"),
        new("Laboruntersuchung", Ms, "edss", "Expanded Disability Status Scale (EDSS)", "quantity", "{score}"),
        new("Laboruntersuchung", Ms, "relapse", "MS relapse (Schub)", "none"),
        new("Laboruntersuchung", Gleason, "sum", "Gleason score", "quantity", "{score}"),
        new("Medikamentenverabreichung", Atc, "L01FD01", "Trastuzumab", "none"),
        new("Medikamentenverabreichung", Atc, "L04AA36", "Ocrelizumab", "none"),
        new("Medikamentenverabreichung", Atc, "L04AA23", "Natalizumab", "none"),
        new("Medikamentenverabreichung", Atc, "L02BB04", "Enzalutamide", "none"),
        new("Prozedur", Snomed, "90470006", "Prostatectomy", "none"),
    ];

    public static IEnumerable<CatalogueCode> Search(string? text) =>
        string.IsNullOrWhiteSpace(text) ? Codes
        : Codes.Where(c => c.Display.Contains(text.Trim(), StringComparison.OrdinalIgnoreCase) || c.Code.Contains(text.Trim(), StringComparison.OrdinalIgnoreCase));

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
