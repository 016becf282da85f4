using System.Text.Json;

namespace Midia.Cli.Dev.Synth;

/// <summary>FHIR R4 element names and the small pieces every resource is built from.</summary>
public static class Fhir
{
    static JsonEncodedText N(string name) => JsonEncodedText.Encode(name, NdjsonSink.Encoder);

    public static readonly JsonEncodedText ResourceType = N("resourceType"), Id = N("id"), Meta = N("meta"), Profile = N("profile"),
        Identifier = N("identifier"), Use = N("use"), Type = N("type"), System = N("system"), Value = N("value"),
        Name = N("name"), Family = N("family"), Given = N("given"), Gender = N("gender"), BirthDate = N("birthDate"),
        DeceasedDateTime = N("deceasedDateTime"), Coding = N("coding"), Code = N("code"), Display = N("display"),
        Reference = N("reference"), Subject = N("subject"), Patient = N("patient"), Status = N("status"),
        Category = N("category"), ClinicalStatus = N("clinicalStatus"), VerificationStatus = N("verificationStatus"),
        OnsetDateTime = N("onsetDateTime"), RecordedDate = N("recordedDate"), BodySite = N("bodySite"),
        EffectiveDateTime = N("effectiveDateTime"), EffectivePeriod = N("effectivePeriod"), Start = N("start"), End = N("end"),
        ValueQuantity = N("valueQuantity"), ValueCodeableConcept = N("valueCodeableConcept"), Unit = N("unit"),
        Component = N("component"), DerivedFrom = N("derivedFrom"), MedicationCodeableConcept = N("medicationCodeableConcept"),
        MedicationReference = N("medicationReference"),
        PerformedDateTime = N("performedDateTime"), PerformedPeriod = N("performedPeriod"), Started = N("started"),
        Modality = N("modality"), Description = N("description"), NumberOfSeries = N("numberOfSeries"),
        NumberOfInstances = N("numberOfInstances"), Series = N("series"), Uid = N("uid"), Number = N("number"),
        Scope = N("scope"), DateTime = N("dateTime"), Policy = N("policy"), Uri = N("uri"), Provision = N("provision"),
        Period = N("period"), Version = N("version"), Text = N("text"), Note = N("note");

    public static readonly JsonEncodedText PatientType = N("Patient"), ConditionType = N("Condition"), ObservationType = N("Observation"),
        MedicationStatementType = N("MedicationStatement"), ProcedureType = N("Procedure"), ImagingStudyType = N("ImagingStudy"),
        ConsentType = N("Consent"), MedicationType = N("Medication");

    public static readonly JsonEncodedText Final = N("final"), Active = N("active"), Completed = N("completed"), Available = N("available"),
        Official = N("official"), Usual = N("usual"), Female = N("female"), Male = N("male"), Permit = N("permit"), Deny = N("deny");

    public static void WriteDate(this Utf8JsonWriter json, JsonEncodedText name, int day)
    {
        // by hand: a consent alone carries some twenty dates, and format-string parsing per date shows in a profile
        Days.ToDate(day).Deconstruct(out var year, out var month, out var dayOfMonth);
        Span<byte> text = stackalloc byte[10];
        text[0] = (byte)('0' + year / 1000);
        text[1] = (byte)('0' + year / 100 % 10);
        text[2] = (byte)('0' + year / 10 % 10);
        text[3] = (byte)('0' + year % 10);
        text[4] = (byte)'-';
        text[5] = (byte)('0' + month / 10);
        text[6] = (byte)('0' + month % 10);
        text[7] = (byte)'-';
        text[8] = (byte)('0' + dayOfMonth / 10);
        text[9] = (byte)('0' + dayOfMonth % 10);
        json.WriteString(name, text);
    }

    public static void WritePeriod(this Utf8JsonWriter json, JsonEncodedText name, int start, int? end)
    {
        json.WriteStartObject(name);
        json.WriteDate(Start, start);
        if (end is { } e) json.WriteDate(End, e);
        json.WriteEndObject();
    }

    public static void WriteProfile(this Utf8JsonWriter json, JsonEncodedText profile)
    {
        json.WriteStartObject(Meta);
        json.WriteStartArray(Profile);
        json.WriteStringValue(profile);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static void WriteCodingValue(this Utf8JsonWriter json, Concept concept, int version = 0, bool legacy = false)
    {
        json.WriteStartObject();
        json.WriteString(System, legacy ? concept.LegacySystemJson : concept.SystemJson);
        if (version > 0) json.WriteString(Version, VersionText(version));
        json.WriteString(Code, concept.CodeJson);
        if (concept.Display.Length > 0) json.WriteString(Display, concept.DisplayJson);
        json.WriteEndObject();
    }

    /// <summary>"name": {"coding": [ ... ]} with one or two codings of the same meaning.</summary>
    public static void WriteConcept(this Utf8JsonWriter json, JsonEncodedText name, Concept concept, Concept? alsoCodedAs = null, bool legacy = false)
    {
        json.WriteStartObject(name);
        json.WriteStartArray(Coding);
        json.WriteCodingValue(concept, legacy: legacy);
        if (alsoCodedAs is not null) json.WriteCodingValue(alsoCodedAs);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>A classification coded in its yearly edition (ICD-10-GM, OPS: the MII profiles require coding.version).</summary>
    public static void WriteVersionedConcept(this Utf8JsonWriter json, JsonEncodedText name, Concept concept, int day, Concept? alsoCodedAs = null, bool legacy = false)
    {
        json.WriteStartObject(name);
        json.WriteStartArray(Coding);
        json.WriteCodingValue(concept, Days.ToDate(day).Year, legacy);
        if (alsoCodedAs is not null) json.WriteCodingValue(alsoCodedAs);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    static readonly JsonEncodedText[] Years = Enumerable.Range(0, 200).Select(y => JsonEncodedText.Encode((1900 + y).ToString(global::System.Globalization.CultureInfo.InvariantCulture))).ToArray();
    static JsonEncodedText VersionText(int year) => Years[year - 1900];

    /// <summary>"name": [{"coding": [ ... ]}] — for the 0..* CodeableConcept elements (category, bodySite).</summary>
    public static void WriteConceptList(this Utf8JsonWriter json, JsonEncodedText name, Concept concept)
    {
        json.WriteStartArray(name);
        json.WriteStartObject();
        WriteCodings(json, concept, null);
        json.WriteEndObject();
        json.WriteEndArray();
    }

    static void WriteCodings(Utf8JsonWriter json, Concept concept, Concept? alsoCodedAs)
    {
        json.WriteStartArray(Coding);
        json.WriteCodingValue(concept);
        if (alsoCodedAs is not null) json.WriteCodingValue(alsoCodedAs);
        json.WriteEndArray();
    }

    public static void WriteReference(this Utf8JsonWriter json, JsonEncodedText name, string reference)
    {
        json.WriteStartObject(name);
        json.WriteString(Reference, reference);
        json.WriteEndObject();
    }

    /// <summary>valueQuantity with a UCUM unit: the unit's code is both the display unit and the code.</summary>
    public static void WriteQuantity(this Utf8JsonWriter json, JsonEncodedText name, double value, Concept ucum)
    {
        json.WriteStartObject(name);
        json.WriteNumber(Value, value);
        json.WriteString(Unit, ucum.CodeJson);
        json.WriteString(System, ucum.SystemJson);
        json.WriteString(Code, ucum.CodeJson);
        json.WriteEndObject();
    }
}

/// <summary>Calendar dates as whole days since 1970-01-01 (the node's Days unit).</summary>
public static class Days
{
    static readonly int Epoch = new DateOnly(1970, 1, 1).DayNumber;
    public static int From(int year, int month, int day) => new DateOnly(year, month, day).DayNumber - Epoch;
    public static DateOnly ToDate(int days) => DateOnly.FromDayNumber(days + Epoch);
    public const int Year = 365;
}
