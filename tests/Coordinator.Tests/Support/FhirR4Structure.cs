using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Midia.Coordinator.Tests.Support;

/// <summary>
/// Structural checks of FHIR R4 JSON, written from the specification (hl7.org/fhir/R4: the JSON
/// representation, the resource tables' cardinalities and required bindings, and the invariants
/// bdl-7/9/10/11, cmp-1/2, ext-1, org-1, ele-1), independently of the code that builds bundles.
/// Not a full validator: no terminology server, no profiles.
/// </summary>
public static class FhirR4Structure
{
    static readonly Regex Id = new(@"^[A-Za-z0-9\-\.]{1,64}$");
    static readonly Regex Date = new(@"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$");
    static readonly Regex DateTime = new(@"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$");
    static readonly Regex Instant = new(@"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$");
    static readonly Regex UrnUuid = new(@"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");

    /// <summary>Required elements (min 1 in the R4 resource tables) and required-binding codes, per resource type.</summary>
    static readonly Dictionary<string, (string[] Required, string? StatusElement, string[] StatusCodes)> Resources = new()
    {
        ["Composition"] = (["status", "type", "date", "author", "title"], "status", ["preliminary", "final", "amended", "entered-in-error"]),
        ["Patient"] = ([], null, []),
        ["Organization"] = ([], null, []),
        ["Device"] = ([], null, []),
        ["Condition"] = (["subject"], null, []),
        ["MedicationStatement"] = (["status", "medication[x]", "subject"], "status", ["active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"]),
        ["Observation"] = (["status", "code"], "status", ["registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"]),
        ["Procedure"] = (["status", "subject"], "status", ["preparation", "in-progress", "not-done", "on-hold", "stopped", "completed", "entered-in-error", "unknown"]),
        ["ImagingStudy"] = (["status", "subject"], "status", ["registered", "available", "cancelled", "entered-in-error", "unknown"]),
    };

    /// <summary>Elements of type date / dateTime / instant that the resources above may carry.</summary>
    static readonly HashSet<string> DateTimeElements = ["onsetDateTime", "abatementDateTime", "recordedDate", "effectiveDateTime", "issued", "performedDateTime", "started", "date", "dateAsserted", "start", "end"];

    public static List<string> Problems(JsonElement bundle)
    {
        var problems = new List<string>();
        JsonRules(bundle, "Bundle", problems);
        if (Text(bundle, "resourceType") != "Bundle") { problems.Add("resourceType: not Bundle"); return problems; }
        var type = Text(bundle, "type");
        if (type is not ("document" or "message" or "transaction" or "transaction-response" or "batch" or "batch-response" or "history" or "searchset" or "collection"))
            problems.Add($"Bundle.type: '{type}' is not a bundle-type code");
        if (type == "document")
        {
            if (!bundle.TryGetProperty("identifier", out var identifier) || Text(identifier, "system") is null || Text(identifier, "value") is null)
                problems.Add("bdl-9: a document must have an identifier with a system and a value");
            if (Text(bundle, "timestamp") is not { } timestamp || !Instant.IsMatch(timestamp)) problems.Add("bdl-10: a document must have a date (timestamp, an instant)");
        }
        if (!bundle.TryGetProperty("entry", out var entries) || entries.ValueKind != JsonValueKind.Array) { problems.Add("Bundle.entry: missing"); return problems; }

        var fullUrls = new HashSet<string>(StringComparer.Ordinal);
        var resources = new List<(string FullUrl, JsonElement Resource, string Path)>();
        int i = 0;
        foreach (var entry in entries.EnumerateArray())
        {
            var path = $"Bundle.entry[{i++}]";
            var fullUrl = Text(entry, "fullUrl");
            if (fullUrl is null) problems.Add($"{path}.fullUrl: missing (a document's entries are referenced by fullUrl)");
            else
            {
                if (!fullUrls.Add(fullUrl)) problems.Add($"bdl-7: {path}.fullUrl '{fullUrl}' is not unique");
                if (fullUrl.StartsWith("urn:uuid:", StringComparison.Ordinal) && !UrnUuid.IsMatch(fullUrl)) problems.Add($"{path}.fullUrl: '{fullUrl}' is not a lower-case urn:uuid");
            }
            if (!entry.TryGetProperty("resource", out var resource)) { problems.Add($"{path}.resource: missing"); continue; }
            resources.Add((fullUrl ?? "", resource, path + ".resource"));
            Resource(resource, path + ".resource", problems);
            if (fullUrl is not null && UrnUuid.IsMatch(fullUrl) && Text(resource, "id") is { } id && id != fullUrl["urn:uuid:".Length..])
                problems.Add($"{path}: resource id '{id}' disagrees with fullUrl {fullUrl}");
        }
        if (type == "document" && (resources.Count == 0 || Text(resources[0].Resource, "resourceType") != "Composition"))
            problems.Add("bdl-11: a document must have a Composition as the first resource");

        // Every reference resolves inside the bundle (a document is self-contained).
        foreach (var (_, resource, path) in resources)
            foreach (var (reference, at) in References(resource, path))
                if (!fullUrls.Contains(reference)) problems.Add($"{at}: reference '{reference}' does not resolve to an entry of the bundle");

        if (type == "document" && resources.Count > 0) Sections(resources, problems);
        return problems;
    }

    static void Sections(List<(string FullUrl, JsonElement Resource, string Path)> resources, List<string> problems)
    {
        var composition = resources[0].Resource;
        var byUrl = resources.ToDictionary(r => r.FullUrl, r => r.Resource);
        if (!composition.TryGetProperty("section", out var sections)) return;
        int i = 0;
        foreach (var section in sections.EnumerateArray())
        {
            var path = $"Composition.section[{i++}]";
            bool hasText = section.TryGetProperty("text", out _), hasEntry = section.TryGetProperty("entry", out var entries), hasSections = section.TryGetProperty("section", out _);
            if (!hasText && !hasEntry && !hasSections) problems.Add($"cmp-1: {path} has no text, entry or section");
            if (hasEntry && section.TryGetProperty("emptyReason", out _)) problems.Add($"cmp-2: {path} has entries and an emptyReason");
            if (!hasEntry && !hasSections && !section.TryGetProperty("emptyReason", out _)) problems.Add($"{path}: empty without an emptyReason");
            if (!section.TryGetProperty("code", out _)) problems.Add($"{path}.code: missing (a section is known by its code)");
            if (hasEntry)
                foreach (var reference in entries.EnumerateArray())
                    if (Text(reference, "reference") is { } url && byUrl.TryGetValue(url, out var target) && Text(target, "resourceType") is "Composition" or "Bundle")
                        problems.Add($"{path}.entry: refers to a {Text(target, "resourceType")}");
        }
    }

    static void Resource(JsonElement resource, string path, List<string> problems)
    {
        var type = Text(resource, "resourceType");
        if (type is null) { problems.Add($"{path}.resourceType: missing"); return; }
        if (!Resources.TryGetValue(type, out var rules)) { problems.Add($"{path}: resource type {type} is not checked by this validator"); return; }
        if (Text(resource, "id") is { } id && !Id.IsMatch(id)) problems.Add($"{path}.id: '{id}' is not a FHIR id");
        foreach (var element in rules.Required)
        {
            bool present = element.EndsWith("[x]", StringComparison.Ordinal)
                ? resource.EnumerateObject().Any(p => p.Name.StartsWith(element[..^3], StringComparison.Ordinal) && p.Name.Length > element.Length - 3 && char.IsUpper(p.Name[element.Length - 3]))
                : resource.TryGetProperty(element, out _);
            if (!present) problems.Add($"{path} ({type}).{element}: required (1..1) but missing");
        }
        if (rules.StatusElement is { } status && Text(resource, status) is { } code && !rules.StatusCodes.Contains(code))
            problems.Add($"{path} ({type}).{status}: '{code}' is not in the required value set");
        if (type == "Composition")
        {
            if (resource.TryGetProperty("author", out var authors) && (authors.ValueKind != JsonValueKind.Array || authors.GetArrayLength() == 0)) problems.Add($"{path}.author: needs at least one Reference");
            if (Text(resource, "date") is { } date && !DateTime.IsMatch(date)) problems.Add($"{path}.date: '{date}' is not a dateTime");
        }
        if (type == "Organization" && !resource.TryGetProperty("name", out _) && !resource.TryGetProperty("identifier", out _))
            problems.Add($"org-1: {path} has neither a name nor an identifier");
        if (type == "ImagingStudy" && resource.TryGetProperty("series", out var series))
            foreach (var s in series.EnumerateArray())
                if (!s.TryGetProperty("uid", out _) || !s.TryGetProperty("modality", out _)) problems.Add($"{path}.series: uid and modality are required");
        Elements(resource, path, problems);
    }

    /// <summary>Data types below a resource: Narrative, Coding, Extension, Quantity, dates.</summary>
    static void Elements(JsonElement element, string path, List<string> problems)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var item in element.EnumerateArray()) Elements(item, $"{path}[{i++}]", problems);
            return;
        }
        if (element.ValueKind != JsonValueKind.Object) return;
        foreach (var property in element.EnumerateObject())
        {
            var at = $"{path}.{property.Name}";
            var value = property.Value;
            switch (property.Name)
            {
                case "text" when value.ValueKind == JsonValueKind.Object:
                    var status = Text(value, "status");
                    if (status is not ("generated" or "extensions" or "additional" or "empty")) problems.Add($"{at}.status: '{status}' is not a narrative status");
                    if (Text(value, "div") is not { } div) problems.Add($"{at}.div: required");
                    else
                    {
                        try
                        {
                            var root = XElement.Parse(div);
                            if (root.Name != XName.Get("div", "http://www.w3.org/1999/xhtml")) problems.Add($"{at}.div: not an XHTML div");
                            if (root.Value.Trim().Length == 0) problems.Add($"{at}.div: has no text");
                        }
                        catch (System.Xml.XmlException e) { problems.Add($"{at}.div: not well-formed XHTML: {e.Message}"); }
                    }
                    continue;
                case "coding" when value.ValueKind == JsonValueKind.Array:
                    foreach (var coding in value.EnumerateArray())
                    {
                        if (Text(coding, "system") is { } system && !Uri.IsWellFormedUriString(system, UriKind.Absolute)) problems.Add($"{at}.system: '{system}' is not an absolute URI");
                        if (Text(coding, "code") is not { } c || c.Trim() != c || c.Length == 0) problems.Add($"{at}.code: missing or has surrounding whitespace");
                    }
                    break;
                case "extension" when value.ValueKind == JsonValueKind.Array:
                    foreach (var extension in value.EnumerateArray())
                    {
                        if (Text(extension, "url") is not { } url || !Uri.IsWellFormedUriString(url, UriKind.Absolute)) problems.Add($"{at}.url: required, an absolute URI");
                        int values = extension.EnumerateObject().Count(p => p.Name.StartsWith("value", StringComparison.Ordinal));
                        bool nested = extension.TryGetProperty("extension", out _);
                        if (values > 1 || (values == 1) == nested) problems.Add($"ext-1: {at} must have either one value[x] or extensions, not both or neither");
                    }
                    break;
                case "valueQuantity":
                    if (!value.TryGetProperty("value", out var number) || number.ValueKind != JsonValueKind.Number) problems.Add($"{at}.value: a Quantity's value must be a number");
                    if (value.TryGetProperty("code", out _) && !value.TryGetProperty("system", out _)) problems.Add($"qty-3: {at} has a code without a system");
                    break;
                case "reference" when value.ValueKind != JsonValueKind.String:
                    problems.Add($"{at}: a Reference.reference is a string");
                    break;
            }
            if (DateTimeElements.Contains(property.Name) && value.ValueKind == JsonValueKind.String && !DateTime.IsMatch(value.GetString()!))
                problems.Add($"{at}: '{value.GetString()}' is not a FHIR date/dateTime");
            Elements(value, at, problems);
        }
    }

    /// <summary>ele-1 and the JSON representation: no nulls, no empty strings, arrays or objects anywhere.</summary>
    static void JsonRules(JsonElement element, string path, List<string> problems)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Null: problems.Add($"{path}: null is not allowed in FHIR JSON"); break;
            case JsonValueKind.String when element.GetString()!.Length == 0: problems.Add($"{path}: empty string"); break;
            case JsonValueKind.Array:
                if (element.GetArrayLength() == 0) problems.Add($"{path}: empty array");
                int i = 0;
                foreach (var item in element.EnumerateArray()) JsonRules(item, $"{path}[{i++}]", problems);
                break;
            case JsonValueKind.Object:
                if (!element.EnumerateObject().Any()) problems.Add($"{path}: empty object");
                foreach (var p in element.EnumerateObject()) JsonRules(p.Value, $"{path}.{p.Name}", problems);
                break;
        }
    }

    static IEnumerable<(string Reference, string Path)> References(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var item in element.EnumerateArray())
                foreach (var r in References(item, $"{path}[{i++}]")) yield return r;
        }
        else if (element.ValueKind == JsonValueKind.Object)
            foreach (var p in element.EnumerateObject())
            {
                if (p.Name == "reference" && p.Value.ValueKind == JsonValueKind.String) yield return (p.Value.GetString()!, $"{path}.reference");
                else foreach (var r in References(p.Value, $"{path}.{p.Name}")) yield return r;
            }
    }

    static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
