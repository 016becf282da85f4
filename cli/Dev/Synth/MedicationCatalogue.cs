using static Midia.Care.Codes.Vocabulary;

namespace Midia.Cli.Dev.Synth;

/// <summary>
/// A site's Medication resources, as a data integration centre exports them (MII KDS Medikation):
/// one Medication per drug the site prescribes, in its own Bulk Data file, referred to from every
/// MedicationStatement by `medicationReference`. A site that keeps the DIMDI system URIs for its
/// older records has a second Medication per drug coded that way.
/// </summary>
public static class MedicationCatalogue
{
    /// <summary>The id of the site's Medication for a drug: `erlangen-med-L04AA36`, `munich-med-L04AA36-dimdi`.</summary>
    public static string Id(string site, Concept drug, bool legacy) => $"{site}-med-{drug.Code}{(legacy ? "-dimdi" : "")}";

    /// <summary>Writes every drug of the vocabulary once (twice at a site with legacy URIs); returns how many.</summary>
    public static long Write(NdjsonSink sink, string site, bool legacySite)
    {
        foreach (var drug in Drugs)
            foreach (var legacy in legacySite ? new[] { false, true } : [false])
            {
                var json = sink.Begin(Fhir.MedicationType, Id(site, drug, legacy));
                json.WriteProfile(MedicationResourceProfile);
                json.WriteString(Fhir.Status, Fhir.Active);
                json.WriteConcept(Fhir.Code, drug, legacy: legacy);
                sink.End();
            }
        return sink.Count;
    }
}
