using System.Globalization;
using System.Text.Json.Nodes;
using Midia.Node.Store;

namespace Midia.Consent.Tests.Support;

/// <summary>
/// One clinical fact as the test writes it, with the summary entry the test expects for it:
/// the expected entry is read off this record, never off the node's output.
/// </summary>
public sealed record ClinicalFact(string Kind, string Section, string System, string Code, string Display, DateOnly? Date,
    DateOnly? End = null, double? Value = null, string Unit = "", string ValueSystem = "", string ValueCode = "")
{
    public string DateText => Date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "";
    public string EndText => End?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "";

    public static ClinicalFact Condition(string system, string code, string display, DateOnly date) =>
        new("condition", "problems", system, code, display, date);
    public static ClinicalFact Lab(string system, string code, string display, DateOnly date, double value, string unit, string section = "results") =>
        new("observation", section, system, code, display, date, Value: value, Unit: unit);
    public static ClinicalFact Coded(string code, string display, DateOnly date, string valueSystem, string valueCode, string section) =>
        new("observation", section, CodeSystems.Snomed, code, display, date, ValueSystem: valueSystem, ValueCode: valueCode);
    public static ClinicalFact Medication(string code, string display, DateOnly start, DateOnly? end) =>
        new("medication", "medications", CodeSystems.Atc, code, display, start, end);
    public static ClinicalFact Procedure(string code, string display, DateOnly date) =>
        new("procedure", "procedures", CodeSystems.Ops, code, display, date);
    public static ClinicalFact Mri(string description, DateOnly date) =>
        new("imaging", "imaging", CodeSystems.Dicom, "MR", description, date);

    /// <summary>The FHIR R4 resource an export would carry for this fact.</summary>
    public JsonObject Resource(string id, string patientId)
    {
        JsonObject Coding(string system, string code, string display) => new() { ["coding"] = new JsonArray(new JsonObject { ["system"] = system, ["code"] = code, ["display"] = display }) };
        var subject = new JsonObject { ["reference"] = "Patient/" + patientId };
        switch (Kind)
        {
            case "condition":
                return new JsonObject { ["resourceType"] = "Condition", ["id"] = id, ["subject"] = subject, ["code"] = Coding(System, Code, Display), ["onsetDateTime"] = DateText };
            case "observation":
                var observation = new JsonObject
                {
                    ["resourceType"] = "Observation", ["id"] = id, ["status"] = "final", ["subject"] = subject,
                    ["code"] = Coding(System, Code, Display), ["effectiveDateTime"] = DateText,
                };
                if (Value is { } value)
                    observation["valueQuantity"] = new JsonObject { ["value"] = value, ["unit"] = Unit, ["system"] = "http://unitsofmeasure.org", ["code"] = Unit };
                else
                    observation["valueCodeableConcept"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = ValueSystem, ["code"] = ValueCode }) };
                return observation;
            case "medication":
                var period = new JsonObject { ["start"] = DateText };
                if (End is not null) period["end"] = EndText;
                return new JsonObject
                {
                    ["resourceType"] = "MedicationStatement", ["id"] = id, ["status"] = End is null ? "active" : "completed", ["subject"] = subject,
                    ["medicationCodeableConcept"] = Coding(System, Code, Display), ["effectivePeriod"] = period,
                };
            case "procedure":
                return new JsonObject { ["resourceType"] = "Procedure", ["id"] = id, ["status"] = "completed", ["subject"] = subject, ["code"] = Coding(System, Code, Display), ["performedDateTime"] = DateText };
            case "imaging":
                return new JsonObject
                {
                    ["resourceType"] = "ImagingStudy", ["id"] = id, ["status"] = "available", ["subject"] = subject, ["started"] = DateText,
                    ["description"] = Display, ["modality"] = new JsonArray(new JsonObject { ["system"] = System, ["code"] = Code }),
                };
            default:
                throw new ArgumentException($"unknown kind {Kind}");
        }
    }
}

/// <summary>A patient as one site holds them: demographics, facts, and the site's care-sharing document (if any).</summary>
public sealed record ClinicalRecord(string ResourceId, string? Kvnr, string Family, string Given, DateOnly Born, string Sex,
    bool? CareSharing, IReadOnlyList<ClinicalFact> Facts)
{
    /// <summary>A FHIR collection Bundle with the Patient, a Consent when CareSharing is set, and one resource per fact.</summary>
    public static string Bundle(params ClinicalRecord[] records)
    {
        var entries = new JsonArray();
        foreach (var r in records)
        {
            var patient = new JsonObject
            {
                ["resourceType"] = "Patient", ["id"] = r.ResourceId, ["gender"] = r.Sex,
                ["birthDate"] = r.Born.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["name"] = new JsonArray(new JsonObject { ["family"] = r.Family, ["given"] = new JsonArray(r.Given) }),
            };
            if (r.Kvnr is not null) patient["identifier"] = new JsonArray(new JsonObject { ["system"] = CodeSystems.Kvnr, ["value"] = r.Kvnr });
            entries.Add(new JsonObject { ["resource"] = patient });
            if (r.CareSharing is { } permit)
                entries.Add(new JsonObject
                {
                    ["resource"] = new JsonObject
                    {
                        ["resourceType"] = "Consent", ["id"] = "care-" + r.ResourceId, ["status"] = "active",
                        ["patient"] = new JsonObject { ["reference"] = "Patient/" + r.ResourceId },
                        ["provision"] = new JsonObject
                        {
                            ["type"] = "deny",
                            ["provision"] = new JsonArray(new JsonObject
                            {
                                ["type"] = permit ? "permit" : "deny",
                                ["code"] = new JsonArray(new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = CodeSystems.MidiaConsentPolicy, ["code"] = "care-sharing" }) }),
                            }),
                        },
                    },
                });
            for (var i = 0; i < r.Facts.Count; i++) entries.Add(new JsonObject { ["resource"] = r.Facts[i].Resource($"{r.ResourceId}-{i}", r.ResourceId) });
        }
        return new JsonObject { ["resourceType"] = "Bundle", ["type"] = "collection", ["entry"] = entries }.ToJsonString();
    }
}
