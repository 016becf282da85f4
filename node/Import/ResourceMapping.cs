using System.Text.Json;
using Midia.Node.Store;

namespace Midia.Node.Import;

/// <summary>
/// Maps one FHIR R4 resource (MII profiles) onto what the site database keeps: a Patient row,
/// facts with their attributes, consent provisions. Every problem is noted with its JSON path;
/// the caller decides (per file) whether anything is kept.
/// </summary>
sealed class ResourceMapping : FhirElements
{
    public const string ObservationStatusSystem = "http://hl7.org/fhir/observation-status";

    public const string DiagnosticReportStatusSystem = "http://hl7.org/fhir/diagnostic-report-status";
    public const string SpecimenStatusSystem = "http://hl7.org/fhir/specimen-status";

    /// <summary>The MII biobank module's extension naming the diagnosis a specimen was taken for.</summary>
    public const string SpecimenDiagnosisExtension = "https://www.medizininformatik-initiative.de/fhir/ext/modul-biobank/StructureDefinition/Diagnose";

    /// <summary>The resource types the node keeps something of; any other type is skipped (and counted) or, strict, refused.</summary>
    static readonly HashSet<string> Supported =
    [
        "Patient", "Condition", "Observation", "MedicationStatement", "MedicationAdministration", "MedicationRequest", "Medication",
        "Procedure", "ImagingStudy", "Consent", "Encounter", "Specimen", "DiagnosticReport",
    ];

    /// <summary>Resource types a reference may point at that the node keeps facts of (reference_link targets).</summary>
    static readonly HashSet<string> Linkable =
        ["Condition", "Observation", "MedicationStatement", "MedicationAdministration", "MedicationRequest", "Procedure", "ImagingStudy", "Encounter", "Specimen", "DiagnosticReport"];

    static readonly HashSet<string> Genders = ["male", "female", "other", "unknown"];

    MappedResource current = null!;

    /// <summary>Within a Bundle: the fullUrl of each entry to its resource type and id (references by urn:uuid).</summary>
    public Dictionary<string, (string Type, string Id)>? BundleEntries { get; set; }

    readonly List<Coding> codes = [], values = [], scratch = [];
    List<PendingFact> facts = [];
    List<(string Name, Coding Code)> attributes = [];

    protected override void Problem(string path, string message) => current.Problem(path, message);

    public static bool IsSupported(string resourceType) => Supported.Contains(resourceType);

    /// <summary>
    /// Maps one resource. <paramref name="fallbackId"/> serves transaction bundles whose entries
    /// carry no id (the entry's urn:uuid).
    /// </summary>
    public MappedResource Map(JsonElement resource, string type, string? fallbackId, string file, int line, string jsonPath)
    {
        current = new MappedResource(file, line, jsonPath, type);
        facts = current.Facts;
        attributes = current.Attributes;
        var id = String(resource, "id", "id") ?? fallbackId;
        if (id is null)
        {
            Problem("id", "missing: a resource needs an id so that re-importing it replaces it");
            return current;
        }
        current.Id = id;
        switch (type)
        {
            case "Patient": Patient(resource, id); break;
            case "Condition": Condition(resource, id); break;
            case "Observation": Observation(resource, id); break;
            case "MedicationStatement":
            case "MedicationAdministration": Medication(resource, type, FactKind.Medication); break;
            case "MedicationRequest": Medication(resource, type, FactKind.Prescription); break;
            case "Medication": MedicationResource(resource); break;
            case "Procedure": Procedure(resource, id); break;
            case "ImagingStudy": ImagingStudy(resource, id); break;
            case "Consent": Consent(resource, id); break;
            case "Encounter": Encounter(resource); break;
            case "Specimen": Specimen(resource); break;
            case "DiagnosticReport": DiagnosticReport(resource); break;
            default: throw new ArgumentException($"unsupported resource type {type}", nameof(type));
        }
        return current;
    }

    void Patient(JsonElement r, string id)
    {
        var sex = String(r, "gender", "gender") ?? "unknown";
        if (!Genders.Contains(sex))
        {
            Problem("gender", $"'{sex}' is not a FHIR administrative gender (male, female, other, unknown)");
            sex = "unknown";
        }
        var birth = Date(r, "birthDate", "birthDate");
        bool deceased = Boolean(r, "deceasedBoolean", "deceasedBoolean") ?? false;
        var deceasedDate = Date(r, "deceasedDateTime", "deceasedDateTime");
        if (deceasedDate is not null) deceased = true;

        string? kvnr = null;
        if (Array(r, "identifier", "identifier", out var identifiers))
        {
            int i = 0;
            foreach (var identifier in identifiers.EnumerateArray())
            {
                var path = $"identifier[{i++}]";
                if (identifier.ValueKind != JsonValueKind.Object) { Problem(path, "expected an Identifier object"); continue; }
                if (String(identifier, "system", path + ".system") != CodeSystems.Kvnr) continue;
                var value = String(identifier, "value", path + ".value");
                // The value itself is an identifier: never echo it in a message.
                if (value is null) Problem(path + ".value", "missing KVNR value");
                else if (!LocalPatient.IsKvnrShape(value)) Problem(path + ".value", "a KVNR is one capital letter followed by 9 digits");
                else kvnr = value;
            }
        }

        string? family = null, given = null;
        if (Array(r, "name", "name", out var names) && names.GetArrayLength() > 0)
        {
            var name = names[0];
            if (name.ValueKind != JsonValueKind.Object) Problem("name[0]", "expected a HumanName object");
            else
            {
                family = String(name, "family", "name[0].family");
                if (Array(name, "given", "name[0].given", out var givens) && givens.GetArrayLength() > 0)
                {
                    if (givens[0].ValueKind == JsonValueKind.String) given = givens[0].GetString();
                    else Problem("name[0].given[0]", "expected a string");
                }
            }
        }
        current.Patient = new PatientRow(sex, birth, deceased, deceasedDate, kvnr, family, given);
    }

    /// <summary>The patient a resource is about: 'Patient/id', an absolute URL ending so, or a Bundle's urn:uuid.</summary>
    void PatientOf(JsonElement r, string element)
    {
        if (!r.TryGetProperty(element, out var reference) || reference.ValueKind == JsonValueKind.Null)
        {
            Problem(element, "missing: the resource must name its patient");
            return;
        }
        if (reference.ValueKind != JsonValueKind.Object)
        {
            Problem(element, "expected a Reference object");
            return;
        }
        var referencePath = element == "subject" ? "subject.reference" : "patient.reference";
        current.PatientPath = referencePath;
        var text = String(reference, "reference", referencePath);
        if (text is null)
        {
            Problem(referencePath, "missing: the resource must name its patient by reference");
            return;
        }
        current.PatientId = PatientId(text);
        if (current.PatientId is null)
            Problem(referencePath, $"'{text}' is not a Patient reference (Patient/<id>, a URL ending in Patient/<id>, or a urn:uuid of a Patient entry in the same Bundle)");
    }

    string? PatientId(string reference) => Target(reference) is ("Patient", var id) ? id : null;

    /// <summary>
    /// The resource a reference names: 'Type/id', an absolute URL ending so (a /_history/n suffix is
    /// ignored), or in a Bundle the urn:uuid of an entry's fullUrl; null for anything else (#contained, a logical reference).
    /// </summary>
    (string Type, string Id)? Target(string reference)
    {
        if (reference.StartsWith("urn:", StringComparison.Ordinal))
            return BundleEntries is not null && BundleEntries.TryGetValue(reference, out var bundled) ? bundled : null;
        var history = reference.IndexOf("/_history/", StringComparison.Ordinal);
        if (history >= 0) reference = reference[..history];
        var slash = reference.LastIndexOf('/');
        if (slash <= 0 || slash == reference.Length - 1) return null;
        var typeStart = reference.LastIndexOf('/', slash - 1) + 1;
        var type = reference[typeStart..slash];
        if (type.Length == 0 || !char.IsAsciiLetterUpper(type[0]) || !type.All(char.IsAsciiLetter)) return null;
        return (type, reference[(slash + 1)..]);
    }

    /// <summary>A reference element (or each of an array of them) to a resource the node keeps facts of: a reference_link named name.</summary>
    void Link(JsonElement r, string element, string name, bool array = false)
    {
        if (array)
        {
            if (!Array(r, element, element, out var references)) return;
            int i = 0;
            foreach (var reference in references.EnumerateArray())
            {
                if (reference.ValueKind == JsonValueKind.Object) LinkTo(reference, $"{element}[{i}]", name);
                else Problem($"{element}[{i}]", "expected a Reference object");
                i++;
            }
        }
        else if (Object(r, element, element, out var reference)) LinkTo(reference, element, name);
    }

    void LinkTo(JsonElement reference, string path, string name)
    {
        var text = String(reference, "reference", path + ".reference");
        if (text is not null && Target(text) is var (type, id) && Linkable.Contains(type) && id.Length > 0) current.Links.Add((name, type, id));
    }

    /// <summary>The FHIR status entered-in-error: the resource is kept out of every count (its earlier version is removed).</summary>
    void StatusEnteredInError(JsonElement r)
    {
        if (String(r, "status", "status") == "entered-in-error") current.EnteredInError = true;
    }

    void Condition(JsonElement r, string id)
    {
        PatientOf(r, "subject");
        var date = Date(r, "onsetDateTime", "onsetDateTime") ?? PeriodDate(r, "onsetPeriod", "onsetPeriod") ?? Date(r, "recordedDate", "recordedDate");
        scratch.Clear();
        CodingsOfArray(r, "category", "category", scratch);
        // The MII cause-of-death profile (Todesursache) is a Condition with this category.
        var kind = scratch.Exists(c => (c.System == CodeSystems.Snomed && c.Code == "16100001") || (c.System == CodeSystems.Loinc && c.Code == "79378-6"))
            ? FactKind.CauseOfDeath : FactKind.Condition;
        scratch.Clear();
        Codings(r, "verificationStatus", "verificationStatus", scratch);
        if (scratch.Exists(c => c.Code == "entered-in-error")) current.EnteredInError = true;
        codes.Clear();
        Codings(r, "code", "code", codes);
        foreach (var c in codes) facts.Add(new PendingFact(c, kind, date, null, null, null, null, c.Display));
        Link(r, "encounter", "encounter");
        ConceptAttribute(r, "clinicalStatus", "clinicalstatus");
        ConceptAttribute(r, "verificationStatus", "verificationstatus");
        ConceptAttribute(r, "severity", "severity");
        ConceptArrayAttribute(r, "bodySite", "bodysite");
        ConceptArrayAttribute(r, "category", "category");
        if (Array(r, "stage", "stage", out var stages))
        {
            int i = 0;
            foreach (var stage in stages.EnumerateArray())
            {
                scratch.Clear();
                if (stage.ValueKind == JsonValueKind.Object) Codings(stage, "summary", $"stage[{i}].summary", scratch);
                else Problem($"stage[{i}]", "expected an object");
                foreach (var c in scratch) attributes.Add(("stage", c));
                i++;
            }
        }
    }

    void Observation(JsonElement r, string id)
    {
        PatientOf(r, "subject");
        var date = Date(r, "effectiveDateTime", "effectiveDateTime") ?? Date(r, "effectiveInstant", "effectiveInstant")
            ?? PeriodDate(r, "effectivePeriod", "effectivePeriod") ?? Date(r, "issued", "issued");
        ObservationFacts(r, "", date);
        if (Array(r, "component", "component", out var components))
        {
            int i = 0;
            foreach (var component in components.EnumerateArray())
            {
                if (component.ValueKind == JsonValueKind.Object) ObservationFacts(component, $"component[{i}].", date);
                else Problem($"component[{i}]", "expected an object");
                i++;
            }
        }
        ConceptAttribute(r, "method", "method");
        ConceptArrayAttribute(r, "interpretation", "interpretation");
        ConceptAttribute(r, "bodySite", "bodysite");
        ConceptArrayAttribute(r, "category", "category");
        var status = String(r, "status", "status");
        if (status is not null) attributes.Add(("status", new Coding(ObservationStatusSystem, status, null)));
        if (status == "entered-in-error") current.EnteredInError = true;
        Link(r, "encounter", "encounter");
        Link(r, "specimen", "specimen");
    }

    /// <summary>One fact per code coding × value coding of an Observation or one of its components.</summary>
    void ObservationFacts(JsonElement x, string path, int? date)
    {
        codes.Clear();
        values.Clear();
        Codings(x, "code", path + "code", codes);
        double? number = null;
        string? unit = null;
        if (Object(x, "valueQuantity", path + "valueQuantity", out var quantity))
        {
            number = Number(quantity, "value", path + "valueQuantity.value");
            unit = String(quantity, "code", path + "valueQuantity.code") ?? String(quantity, "unit", path + "valueQuantity.unit");
        }
        else if (x.TryGetProperty("valueInteger", out _)) number = Number(x, "valueInteger", path + "valueInteger");
        else if (x.TryGetProperty("valueDecimal", out _)) number = Number(x, "valueDecimal", path + "valueDecimal");
        else if (Object(x, "valueCodeableConcept", path + "valueCodeableConcept", out var concept))
        {
            ConceptCodings(concept, path + "valueCodeableConcept", values);
            // The summary shows the value in words: each coding's own display, else the concept's text.
            // Terminology text only; never Observation.note or other free text.
            var text = values.Count > 0 ? String(concept, "text", path + "valueCodeableConcept.text") : null;
            for (int i = 0; i < values.Count; i++)
                values[i] = values[i] with { Display = Bounded(values[i].Display ?? text) };
        }

        foreach (var c in codes)
        {
            if (values.Count == 0) facts.Add(new PendingFact(c, FactKind.Observation, date, null, number, unit, null, c.Display));
            else foreach (var v in values) facts.Add(new PendingFact(c, FactKind.Observation, date, null, null, null, v, c.Display));
        }
    }

    /// <summary>The longest value display kept: a coding's display is a term, not a report.</summary>
    public const int MaxValueDisplay = 200;

    static string? Bounded(string? text)
    {
        text = string.IsNullOrWhiteSpace(text) ? null : text.Trim();
        if (text is null || text.Length <= MaxValueDisplay) return text;
        // Never cut a surrogate pair in half.
        var cut = char.IsHighSurrogate(text[MaxValueDisplay - 2]) ? MaxValueDisplay - 2 : MaxValueDisplay - 1;
        return text[..cut] + "…";
    }

    /// <summary>
    /// MedicationStatement, MedicationAdministration (kind Medication) and MedicationRequest (Prescription):
    /// the drug from medicationCodeableConcept, a contained Medication, or a Medication resource anywhere
    /// in the import (its codes are filled in when the resource is written: FhirImporter).
    /// </summary>
    void Medication(JsonElement r, string type, FactKind kind)
    {
        PatientOf(r, "subject");
        var date = kind == FactKind.Prescription
            ? Date(r, "authoredOn", "authoredOn")
            : PeriodDate(r, "effectivePeriod", "effectivePeriod") ?? Date(r, "effectiveDateTime", "effectiveDateTime") ?? Date(r, "dateAsserted", "dateAsserted");
        var end = kind == FactKind.Prescription ? null : PeriodDate(r, "effectivePeriod", "effectivePeriod", end: true);
        StatusEnteredInError(r);
        codes.Clear();
        if (r.TryGetProperty("medicationCodeableConcept", out _)) Codings(r, "medicationCodeableConcept", "medicationCodeableConcept", codes);
        else if (Object(r, "medicationReference", "medicationReference", out var reference))
            MedicationReference(r, String(reference, "reference", "medicationReference.reference"));
        else Problem("medication[x]", "missing: medicationCodeableConcept or medicationReference");
        current.Medication = new MedicationUse(kind, date, end);
        foreach (var c in codes) facts.Add(new PendingFact(c, kind, date, end, null, null, null, c.Display));
        Link(r, type == "MedicationRequest" ? "encounter" : "context", "encounter");
        Link(r, "reasonReference", "reasonreference", array: true);
    }

    void MedicationReference(JsonElement r, string? reference)
    {
        const string path = "medicationReference.reference";
        if (reference is null) { Problem(path, "missing"); return; }
        if (!reference.StartsWith('#'))
        {
            if (Target(reference) is ("Medication", var id) && id.Length > 0) current.MedicationId = id;
            else Problem(path, $"'{reference}' is not a reference to a Medication (Medication/<id>, a URL ending so, a urn:uuid of a Medication entry in the same Bundle, or a contained '#id')");
            return;
        }
        if (Array(r, "contained", "contained", out var contained))
        {
            int i = 0;
            foreach (var resource in contained.EnumerateArray())
            {
                if (resource.ValueKind == JsonValueKind.Object
                    && resource.TryGetProperty("id", out var cid) && cid.ValueKind == JsonValueKind.String && cid.ValueEquals(reference.AsSpan(1))
                    && resource.TryGetProperty("resourceType", out var ct) && ct.ValueKind == JsonValueKind.String && ct.ValueEquals("Medication"))
                {
                    MedicationCodes(resource, $"contained[{i}].", codes);
                    return;
                }
                i++;
            }
        }
        Problem(path, $"no contained Medication with id '{reference[1..]}'");
    }

    /// <summary>A Medication's codes: Medication.code and each ingredient's item (a product is found by its substances' ATC codes).</summary>
    void MedicationCodes(JsonElement medication, string path, List<Coding> into)
    {
        Codings(medication, "code", path + "code", into);
        if (!Array(medication, "ingredient", path + "ingredient", out var ingredients)) return;
        int i = 0;
        foreach (var ingredient in ingredients.EnumerateArray())
        {
            if (ingredient.ValueKind == JsonValueKind.Object) Codings(ingredient, "itemCodeableConcept", $"{path}ingredient[{i}].itemCodeableConcept", into);
            else Problem($"{path}ingredient[{i}]", "expected an object");
            i++;
        }
    }

    /// <summary>A Medication resource: no patient, no facts of its own; the statements that refer to it take its codes.</summary>
    void MedicationResource(JsonElement r)
    {
        var found = new List<Coding>();
        MedicationCodes(r, "", found);
        StatusEnteredInError(r);
        current.MedicationCodes = current.EnteredInError ? [] : [.. found.Distinct()];
    }

    void Procedure(JsonElement r, string id)
    {
        PatientOf(r, "subject");
        var date = Date(r, "performedDateTime", "performedDateTime") ?? PeriodDate(r, "performedPeriod", "performedPeriod");
        var end = PeriodDate(r, "performedPeriod", "performedPeriod", end: true);
        codes.Clear();
        Codings(r, "code", "code", codes);
        foreach (var c in codes) facts.Add(new PendingFact(c, FactKind.Procedure, date, end, null, null, null, c.Display));
        ConceptAttribute(r, "category", "category");
        ConceptArrayAttribute(r, "bodySite", "bodysite");
        StatusEnteredInError(r);
        Link(r, "encounter", "encounter");
        Link(r, "reasonReference", "reasonreference", array: true);
    }

    /// <summary>
    /// Encounter (MII Fall): the class (IMP, AMB, ...) as the fact, dated by its period; type
    /// (Kontaktebene, Kontaktart), department (serviceType: Fachabteilungsschlüssel), admission and
    /// discharge, the facility (serviceProvider's identifier) as attributes; diagnoses and partOf as references.
    /// </summary>
    void Encounter(JsonElement r)
    {
        PatientOf(r, "subject");
        var date = PeriodDate(r, "period", "period");
        var end = PeriodDate(r, "period", "period", end: true);
        StatusEnteredInError(r);
        codes.Clear();
        if (Object(r, "class", "class", out var @class)) AddCoding(@class, "class", -1, codes);
        foreach (var c in codes) facts.Add(new PendingFact(c, FactKind.Encounter, date, end, null, null, null, c.Display));
        scratch.Clear();
        CodingsOfArray(r, "type", "type", scratch);
        foreach (var c in scratch)
        {
            attributes.Add(("type", c));
            if (c.System == "http://fhir.de/CodeSystem/Kontaktebene") attributes.Add(("kontaktebene", c));
            if (c.System == "http://fhir.de/CodeSystem/kontaktart-de") attributes.Add(("kontaktart", c));
        }
        scratch.Clear();
        Codings(r, "serviceType", "serviceType", scratch);
        foreach (var c in scratch)
        {
            attributes.Add(("servicetype", c));
            if (c.System.StartsWith("http://fhir.de/CodeSystem/dkgev/Fachabteilungsschluessel", StringComparison.Ordinal)) attributes.Add(("fachabteilungsschluessel", c));
        }
        if (Object(r, "hospitalization", "hospitalization", out var hospitalization))
        {
            scratch.Clear();
            Codings(hospitalization, "admitSource", "hospitalization.admitSource", scratch);
            foreach (var c in scratch) attributes.Add(("aufnahmeanlass", c));
            scratch.Clear();
            Codings(hospitalization, "dischargeDisposition", "hospitalization.dischargeDisposition", scratch);
            foreach (var c in scratch) attributes.Add(("entlassungsgrund", c));
        }
        // The facility: the serviceProvider's identifier (system and value), as the KDS writes it (IKNR, a site's own OID).
        if (Object(r, "serviceProvider", "serviceProvider", out var provider) && Object(provider, "identifier", "serviceProvider.identifier", out var identifier))
        {
            var system = String(identifier, "system", "serviceProvider.identifier.system");
            var value = String(identifier, "value", "serviceProvider.identifier.value");
            if (system is not null && value is not null) attributes.Add(("serviceprovider", new Coding(system, value, null)));
        }
        if (Array(r, "diagnosis", "diagnosis", out var diagnoses))
        {
            int i = 0;
            foreach (var diagnosis in diagnoses.EnumerateArray())
            {
                if (diagnosis.ValueKind == JsonValueKind.Object && Object(diagnosis, "condition", $"diagnosis[{i}].condition", out var condition))
                    LinkTo(condition, $"diagnosis[{i}].condition", "diagnosis");
                i++;
            }
        }
        Link(r, "partOf", "partof");
    }

    /// <summary>Specimen (MII Bioprobe): its type as the fact, dated by the collection; body site and
    /// collection method as attributes; the diagnosis it was taken for (MII extension) and its parent as references.</summary>
    void Specimen(JsonElement r)
    {
        PatientOf(r, "subject");
        int? date = null;
        if (Object(r, "collection", "collection", out var collection))
        {
            date = Date(collection, "collectedDateTime", "collection.collectedDateTime") ?? PeriodDate(collection, "collectedPeriod", "collection.collectedPeriod");
            scratch.Clear();
            Codings(collection, "bodySite", "collection.bodySite", scratch);
            foreach (var c in scratch) attributes.Add(("bodysite", c));
            scratch.Clear();
            Codings(collection, "method", "collection.method", scratch);
            foreach (var c in scratch) attributes.Add(("method", c));
        }
        date ??= Date(r, "receivedTime", "receivedTime");
        var status = String(r, "status", "status");
        if (status is not null) attributes.Add(("status", new Coding(SpecimenStatusSystem, status, null)));
        if (status == "entered-in-error") current.EnteredInError = true;
        codes.Clear();
        Codings(r, "type", "type", codes);
        foreach (var c in codes) facts.Add(new PendingFact(c, FactKind.Specimen, date, null, null, null, null, c.Display));
        if (Array(r, "extension", "extension", out var extensions))
        {
            int i = 0;
            foreach (var extension in extensions.EnumerateArray())
            {
                if (extension.ValueKind == JsonValueKind.Object && String(extension, "url", $"extension[{i}].url") == SpecimenDiagnosisExtension
                    && Object(extension, "valueReference", $"extension[{i}].valueReference", out var diagnosis))
                    LinkTo(diagnosis, $"extension[{i}].valueReference", "festgestelltediagnose");
                i++;
            }
        }
        Link(r, "parent", "parent", array: true);
    }

    /// <summary>DiagnosticReport: its code as the fact; category and status as attributes; encounter, specimens and results as references.</summary>
    void DiagnosticReport(JsonElement r)
    {
        PatientOf(r, "subject");
        var date = Date(r, "effectiveDateTime", "effectiveDateTime") ?? PeriodDate(r, "effectivePeriod", "effectivePeriod") ?? Date(r, "issued", "issued");
        var status = String(r, "status", "status");
        if (status is not null) attributes.Add(("status", new Coding(DiagnosticReportStatusSystem, status, null)));
        if (status == "entered-in-error") current.EnteredInError = true;
        codes.Clear();
        Codings(r, "code", "code", codes);
        foreach (var c in codes) facts.Add(new PendingFact(c, FactKind.DiagnosticReport, date, null, null, null, null, c.Display));
        ConceptArrayAttribute(r, "category", "category");
        Link(r, "encounter", "encounter");
        Link(r, "specimen", "specimen", array: true);
        Link(r, "result", "result", array: true);
    }

    void ImagingStudy(JsonElement r, string id)
    {
        PatientOf(r, "subject");
        StatusEnteredInError(r);
        Link(r, "encounter", "encounter");
        var date = Date(r, "started", "started");
        var description = String(r, "description", "description");
        codes.Clear();
        if (Array(r, "modality", "modality", out var modalities))
        {
            int i = 0;
            foreach (var modality in modalities.EnumerateArray())
            {
                if (modality.ValueKind == JsonValueKind.Object) AddCoding(modality, $"modality[{i}]", -1, codes, CodeSystems.Dicom);
                else Problem($"modality[{i}]", "expected a Coding object");
                i++;
            }
        }
        if (Array(r, "series", "series", out var series))
        {
            int i = 0;
            foreach (var s in series.EnumerateArray())
            {
                if (s.ValueKind != JsonValueKind.Object) Problem($"series[{i}]", "expected an object");
                else if (Object(s, "modality", $"series[{i}].modality", out var modality)) AddCoding(modality, $"series[{i}].modality", -1, codes, CodeSystems.Dicom);
                i++;
            }
        }
        foreach (var c in codes)
        {
            var canonical = CodeSystems.Canonical(c.System);
            if (!facts.Exists(f => CodeSystems.Canonical(f.Code.System) == canonical && f.Code.Code == c.Code))
                facts.Add(new PendingFact(c, FactKind.Imaging, date, null, null, null, null, description));
        }
    }

    void Consent(JsonElement r, string id)
    {
        PatientOf(r, "patient");
        var status = String(r, "status", "status");
        if (status is null) Problem("status", "missing");
        // Only an active document is in force; a re-imported inactive one just loses its old provisions.
        current.ConsentActive = status == "active";
        if (Object(r, "provision", "provision", out var provision)) Provision(provision, "provision", null, null);
    }

    void Provision(JsonElement provision, string path, int? inheritedStart, int? inheritedEnd)
    {
        int? start = inheritedStart, end = inheritedEnd;
        if (Object(provision, "period", path + ".period", out var period))
        {
            start = Date(period, "start", path + ".period.start") ?? inheritedStart;
            end = Date(period, "end", path + ".period.end") ?? inheritedEnd;
        }
        var type = String(provision, "type", path + ".type");
        if (type is not null and not "permit" and not "deny") Problem(path + ".type", $"'{type}' is neither permit nor deny");
        scratch.Clear();
        CodingsOfArray(provision, "code", path + ".code", scratch);
        if (type is "permit" or "deny")
            foreach (var c in scratch)
                if (PolicyCode(c) is string policy) current.Provisions.Add((policy, type == "permit", start, end));
        if (Array(provision, "provision", path + ".provision", out var nested))
        {
            int i = 0;
            foreach (var child in nested.EnumerateArray())
            {
                if (child.ValueKind == JsonValueKind.Object) Provision(child, $"{path}.provision[{i}]", start, end);
                else Problem($"{path}.provision[{i}]", "expected an object");
                i++;
            }
        }
    }

    /// <summary>MII policy codes are full OIDs (a bare suffix is completed); the network's own codes are kept as they are.</summary>
    static string? PolicyCode(Coding c)
    {
        if (c.System == CodeSystems.MiiConsentPolicy)
        {
            const string oid = "2.16.840.1.113883.3.1937.777.24.5.3";
            return c.Code.StartsWith(oid + ".", StringComparison.Ordinal) ? c.Code : $"{oid}.{c.Code.TrimStart('.')}";
        }
        return c.System == CodeSystems.MidiaConsentPolicy ? c.Code : null;
    }

    void ConceptAttribute(JsonElement r, string element, string name)
    {
        scratch.Clear();
        Codings(r, element, element, scratch);
        foreach (var c in scratch) attributes.Add((name, c));
    }

    void ConceptArrayAttribute(JsonElement r, string element, string name)
    {
        scratch.Clear();
        CodingsOfArray(r, element, element, scratch);
        foreach (var c in scratch) attributes.Add((name, c));
    }
}
