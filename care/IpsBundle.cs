using System.Globalization;
using System.Text.Json.Nodes;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;

namespace Midia.Care;

/// <summary>
/// `midia summary --fhir`: the summary as a FHIR R4 document Bundle laid out as an International
/// Patient Summary — a Composition (LOINC 60591-5) with the IPS sections, every entry a FHIR
/// resource naming its source sites, and an emptyReason with a narrative saying why wherever a
/// section is empty. The Patient carries no identifier: the summary is linked by pseudonym only.
/// </summary>
public static class IpsBundle
{
    /// <summary>One per source site of an entry (a folded duplicate has several).</summary>
    public const string SourceSiteExtension = "https://fhir.midia-hub.de/StructureDefinition/source-site";
    public const string EmptyReasonSystem = "http://terminology.hl7.org/CodeSystem/list-empty-reason";
    const string Xhtml = "http://www.w3.org/1999/xhtml";

    public static JsonObject Build(SummaryReply reply, DateTimeOffset timestamp)
    {
        var now = timestamp.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var today = now[..10];
        var (patientId, authorId, compositionId) = (NewId(), NewId(), NewId());
        var resources = new List<JsonObject>();
        var sectionEntries = SummarySection.All.ToDictionary(s => s, _ => new List<(string Url, TimelineEntry Entry)>());
        foreach (var timeline in reply.Entries)
        {
            var id = NewId();
            var section = SummarySection.Of(timeline.Entry);
            sectionEntries[section].Add(($"urn:uuid:{id}", timeline));
            resources.Add(Entry(id, Resource(timeline, id, $"urn:uuid:{patientId}", today)));
        }

        var sections = new JsonArray();
        foreach (var section in SummarySection.All)
        {
            var entries = sectionEntries[section];
            if (entries.Count == 0 && !section.AlwaysInDocument) continue;
            var json = new JsonObject
            {
                ["title"] = section.Title,
                ["code"] = Concept(section.System, section.Code, section.CodeDisplay),
            };
            if (entries.Count > 0)
            {
                json["text"] = Narrative($"<ul>{string.Concat(entries.Select(e => $"<li>{Escape(Line(e.Entry))}</li>"))}</ul>{MissingParagraph(reply)}");
                json["entry"] = new JsonArray([.. entries.Select(e => (JsonNode)new JsonObject { ["reference"] = e.Url })]);
            }
            else
            {
                var (reason, why) = EmptyReason(section, reply);
                json["text"] = Narrative($"<p>{Escape(why)}</p>");
                json["emptyReason"] = Concept(EmptyReasonSystem, reason, ReasonDisplay(reason));
            }
            sections.Add(json);
        }

        var composition = new JsonObject
        {
            ["resourceType"] = "Composition",
            ["id"] = compositionId,
            ["text"] = Narrative($"<p>Patient summary across the Midia Federated network, request {Escape(reply.RequestId)}.</p><ul>{string.Concat(reply.Sites.Select(s => $"<li>{Escape(SiteLine(s))}</li>"))}</ul>"),
            ["status"] = "final",
            ["type"] = Concept("http://loinc.org", "60591-5", "Patient summary Document"),
            ["subject"] = Reference(patientId),
            ["date"] = now,
            ["author"] = new JsonArray(Reference(authorId)),
            ["title"] = "Patient summary (Midia Federated network)",
            ["section"] = sections,
        };
        var patient = new JsonObject
        {
            ["resourceType"] = "Patient",
            ["id"] = patientId,
            ["text"] = Narrative("<p>The patient of this summary. Identifiers are not part of it: the sites link their records by pseudonym.</p>"),
        };
        var author = new JsonObject
        {
            ["resourceType"] = "Organization",
            ["id"] = authorId,
            ["name"] = "Midia Federated network",
        };
        var bundleEntries = new JsonArray(Entry(compositionId, composition), Entry(patientId, patient), Entry(authorId, author));
        foreach (var resource in resources) bundleEntries.Add(resource);
        return new JsonObject
        {
            ["resourceType"] = "Bundle",
            ["id"] = NewId(),
            ["identifier"] = new JsonObject { ["system"] = "urn:ietf:rfc:3986", ["value"] = $"urn:uuid:{NewId()}" },
            ["type"] = "document",
            ["timestamp"] = now,
            ["entry"] = bundleEntries,
        };
    }

    /// <summary>
    /// Why a section is empty. A site that could not answer may hold entries (unavailable); one
    /// that shared nothing withheld them, as far as the reader can know; otherwise there are none.
    /// </summary>
    public static (string Code, string Why) EmptyReason(SummarySection section, SummaryReply reply)
    {
        if (section == SummarySection.Allergies)
            return ("notasked", "The Midia Federated network does not carry allergies and intolerances: ask the patient or the treating sites.");
        var unanswered = reply.Sites.Where(s => SummarySection.CouldNotAnswer(s.Status)).ToList();
        var withheld = reply.Sites.Where(s => s.Status == SiteStatus.NotShared).ToList();
        var answered = reply.Sites.Where(s => s.Status == SiteStatus.Ok).Select(s => s.Site).ToList();
        var none = answered.Count > 0 ? $"No {section.Title.ToLowerInvariant()} recorded at {string.Join(", ", answered)}." : "No site answered with data.";
        var missing = string.Concat(unanswered.Concat(withheld).Select(s => $" {SiteLine(s)}."));
        if (unanswered.Count > 0) return ("unavailable", none + missing);
        if (withheld.Count > 0) return ("withheld", none + missing);
        return ("nilknown", none);
    }

    static string ReasonDisplay(string code) => code switch
    {
        "nilknown" => "Nil Known",
        "notasked" => "Not Asked",
        "withheld" => "Information Withheld",
        "unavailable" => "Unavailable",
        _ => code,
    };

    static string SiteLine(SummarySite s) => s.Status == SiteStatus.Ok
        ? $"{s.Site}: ok, {s.Entries} entries"
        : $"{s.Site}: {s.Status.Word()}, {(s.Message.Length > 0 ? s.Message : SummarySection.Meaning(s.Status))}";

    static string MissingParagraph(SummaryReply reply)
    {
        var missing = SummarySection.Missing(reply).ToList();
        return missing.Count == 0 ? "" : $"<p>Not included: {Escape(string.Join("; ", missing.Select(SiteLine)))}.</p>";
    }

    static string Line(TimelineEntry t)
    {
        var e = t.Entry;
        var value = EntryText.Value(e);
        return $"{(e.Date.Length > 0 ? e.Date : "no date")}{(e.EndDate.Length > 0 ? " to " + e.EndDate : "")}: {e.Display} ({EntryText.Code(e)}){(value.Length > 0 ? " " + value : "")} — {string.Join(", ", t.Sites)}";
    }

    /// <summary>The FHIR resource of one entry, with every element FHIR R4 requires of its type.</summary>
    static JsonObject Resource(TimelineEntry timeline, string id, string patient, string today)
    {
        var e = timeline.Entry;
        var code = Concept(e.System, e.Code, e.Display);
        var resource = new JsonObject();
        void Add(string name, JsonNode? value) { if (value is not null) resource[name] = value; }
        switch (e.Kind)
        {
            case "condition":
                Add("resourceType", "Condition");
                Add("id", id);
                Add("extension", Sources(timeline));
                Add("code", code);
                Add("subject", new JsonObject { ["reference"] = patient });
                if (e.Date.Length > 0) Add("onsetDateTime", e.Date);
                break;
            case "medication":
                Add("resourceType", "MedicationStatement");
                Add("id", id);
                Add("extension", Sources(timeline));
                Add("status", e.EndDate.Length > 0 && string.CompareOrdinal(e.EndDate, today) < 0 ? "completed" : "active");
                Add("medicationCodeableConcept", code);
                Add("subject", new JsonObject { ["reference"] = patient });
                Add("effectivePeriod", Period(e));
                break;
            case "procedure":
                Add("resourceType", "Procedure");
                Add("id", id);
                Add("extension", Sources(timeline));
                Add("status", "completed");
                Add("code", code);
                Add("subject", new JsonObject { ["reference"] = patient });
                if (e.EndDate.Length > 0) Add("performedPeriod", Period(e));
                else if (e.Date.Length > 0) Add("performedDateTime", e.Date);
                break;
            case "imaging":
                Add("resourceType", "ImagingStudy");
                Add("id", id);
                Add("extension", Sources(timeline));
                Add("status", "available");
                Add("modality", new JsonArray(Coding(e.System, e.Code, null)));
                Add("subject", new JsonObject { ["reference"] = patient });
                if (e.Date.Length > 0) Add("started", e.Date);
                if (e.Display.Length > 0) Add("description", e.Display);
                break;
            default:
                Add("resourceType", "Observation");
                Add("id", id);
                Add("extension", Sources(timeline));
                Add("status", "final");
                Add("code", code);
                Add("subject", new JsonObject { ["reference"] = patient });
                if (e.Date.Length > 0) Add("effectiveDateTime", e.Date);
                if (e.HasValue)
                {
                    var quantity = new JsonObject { ["value"] = e.Value };
                    if (e.Unit.Length > 0) quantity["unit"] = e.Unit;
                    Add("valueQuantity", quantity);
                }
                else if (e.ValueCode.Length > 0)
                {
                    var concept = new JsonObject { ["coding"] = new JsonArray(Coding(e.ValueSystem, e.ValueCode, e.ValueDisplay)) };
                    if (e.ValueDisplay.Length > 0) concept["text"] = e.ValueDisplay;
                    Add("valueCodeableConcept", concept);
                }
                break;
        }
        return resource;
    }

    static JsonArray Sources(TimelineEntry timeline) =>
        [.. timeline.Sites.Select(site => (JsonNode)new JsonObject { ["url"] = SourceSiteExtension, ["valueString"] = site })];

    static JsonObject? Period(SummaryEntry e)
    {
        if (e.Date.Length == 0 && e.EndDate.Length == 0) return null;
        var period = new JsonObject();
        if (e.Date.Length > 0) period["start"] = e.Date;
        if (e.EndDate.Length > 0) period["end"] = e.EndDate;
        return period;
    }

    static JsonObject Entry(string id, JsonObject resource) => new() { ["fullUrl"] = $"urn:uuid:{id}", ["resource"] = resource };

    static JsonObject Reference(string id) => new() { ["reference"] = $"urn:uuid:{id}" };

    static JsonObject Concept(string system, string code, string? display) => new() { ["coding"] = new JsonArray(Coding(system, code, display)) };

    static JsonObject Coding(string system, string code, string? display)
    {
        var coding = new JsonObject();
        if (system.Length > 0) coding["system"] = system;
        coding["code"] = code;
        if (!string.IsNullOrEmpty(display)) coding["display"] = display;
        return coding;
    }

    static JsonObject Narrative(string xhtml) => new() { ["status"] = "generated", ["div"] = $"<div xmlns=\"{Xhtml}\">{xhtml}</div>" };

    static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    static string NewId() => Guid.NewGuid().ToString("D");
}
