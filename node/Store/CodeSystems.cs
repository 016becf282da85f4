namespace Midia.Node.Store;

/// <summary>
/// Code-system URIs the network folds together, so data and queries written against either
/// spelling meet (DOMAIN.md): the old DIMDI URIs are the BfArM ones, WHO ATC is BfArM ATC.
/// Any other URI is kept as it is: an unknown system is still importable and queryable.
/// </summary>
public static class CodeSystems
{
    public const string Icd10Gm = "http://fhir.de/CodeSystem/bfarm/icd-10-gm";
    /// <summary>ICD-10 WHO edition: the MII cause-of-death profile codes in it.</summary>
    public const string Icd10Who = "http://hl7.org/fhir/sid/icd-10";
    public const string Ops = "http://fhir.de/CodeSystem/bfarm/ops";
    public const string Atc = "http://fhir.de/CodeSystem/bfarm/atc";
    public const string Loinc = "http://loinc.org";
    public const string Snomed = "http://snomed.info/sct";
    public const string Dicom = "http://dicom.nema.org/resources/ontology/DCM";
    public const string Kvnr = "http://fhir.de/sid/gkv/kvid-10";
    public const string MiiConsentPolicy = "urn:oid:2.16.840.1.113883.3.1937.777.24.5.3";

    /// <summary>The network's own codes for MS assessments that have no verified standard code (docs/CODES.md).</summary>
    public const string MidiaMs = "https://fhir.midia-hub.de/CodeSystem/ms-assessment";

    /// <summary>The network's consent policy codes beyond MII (docs/CODES.md): care-sharing.</summary>
    public const string MidiaConsentPolicy = "https://fhir.midia-hub.de/CodeSystem/consent-policy";

    static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["http://fhir.de/CodeSystem/dimdi/icd-10-gm"] = Icd10Gm,
        ["http://fhir.de/CodeSystem/bfarm/icd-10-gm"] = Icd10Gm,
        ["http://fhir.de/CodeSystem/dimdi/ops"] = Ops,
        ["http://fhir.de/CodeSystem/bfarm/ops"] = Ops,
        ["http://fhir.de/CodeSystem/dimdi/atc"] = Atc,
        ["http://fhir.de/CodeSystem/bfarm/atc"] = Atc,
        ["http://www.whocc.no/atc"] = Atc,
    };

    public static string Canonical(string uri)
    {
        var trimmed = uri.Trim().TrimEnd('/');
        return Aliases.TryGetValue(trimmed, out var canonical) ? canonical : trimmed;
    }
}
