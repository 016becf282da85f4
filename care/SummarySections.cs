using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;

namespace Midia.Care;

/// <summary>
/// The IPS sections a summary is laid out in, in the order a clinician reads them, with the
/// LOINC section codes of the International Patient Summary (DOMAIN.md). Staging has no IPS
/// section: it gets the network's own code (docs/CODES.md).
/// </summary>
public sealed record SummarySection(string Id, string Title, string System, string Code, string CodeDisplay, bool AlwaysInDocument)
{
    public const string MidiaSectionSystem = "https://fhir.midia-hub.de/CodeSystem/summary-section";

    public static readonly SummarySection Problems = new("problems", "Problems", "http://loinc.org", "11450-4", "Problem list - Reported", true);
    public static readonly SummarySection Staging = new("staging", "Oncology staging and follow-up", MidiaSectionSystem, "staging", "Oncology staging and follow-up", false);
    public static readonly SummarySection Medications = new("medications", "Medications", "http://loinc.org", "10160-0", "History of Medication use Narrative", true);
    public static readonly SummarySection Allergies = new("allergies", "Allergies and intolerances", "http://loinc.org", "48765-2", "Allergies and adverse reactions Document", true);
    public static readonly SummarySection Results = new("results", "Results", "http://loinc.org", "30954-2", "Relevant diagnostic tests/laboratory data Narrative", true);
    public static readonly SummarySection Procedures = new("procedures", "Procedures", "http://loinc.org", "47519-4", "History of Procedures Document", true);
    public static readonly SummarySection Imaging = new("imaging", "Imaging studies", "http://loinc.org", "18748-4", "Diagnostic imaging study", false);

    /// <summary>Document order: the IPS required sections first, then the recommended and the optional ones.</summary>
    public static readonly IReadOnlyList<SummarySection> All = [Problems, Medications, Allergies, Results, Procedures, Imaging, Staging];

    /// <summary>The section of an entry: as the site said, else from its kind.</summary>
    public static SummarySection Of(SummaryEntry entry)
    {
        var byId = All.FirstOrDefault(s => s.Id == entry.Section);
        if (byId is not null && byId != Allergies) return byId;
        return entry.Kind switch
        {
            "condition" => Problems,
            "medication" => Medications,
            "procedure" => Procedures,
            "imaging" => Imaging,
            _ => Results,
        };
    }

    /// <summary>Sites that did not answer with their data, each with why: what the summary may be missing.</summary>
    public static IEnumerable<SummarySite> Missing(SummaryReply reply) => reply.Sites.Where(s => s.Status != SiteStatus.Ok);

    /// <summary>Could not be asked or did not answer (as opposed to: answered that it shares nothing).</summary>
    public static bool CouldNotAnswer(SiteStatus status) => status is not (SiteStatus.Ok or SiteStatus.NotShared);

    /// <summary>What a site's status means, in plain words, for a status line without a message.</summary>
    public static string Meaning(SiteStatus status) => status switch
    {
        SiteStatus.Ok => "answered",
        SiteStatus.Timeout => "no answer in time",
        SiteStatus.Unavailable => "could not be reached",
        SiteStatus.NotApproved => "its site admin has not approved patient-summary",
        SiteStatus.NotShared => "shares nothing for this patient (no record there, or no care-sharing consent)",
        SiteStatus.Refused => "refused the request",
        _ => "failed",
    };
}
