using System.Text.Json;
using static Midia.Care.Codes.Vocabulary;

namespace Midia.Cli.Dev.Synth;

/// <summary>Kinds of clinical events: a person seen at several sites has each kind mostly at one "home" site for it.</summary>
public enum EventKind { Diagnosis = 1, Pathology, Lab, Imaging, Surgery, Radiotherapy, Medication, Assessment }

/// <summary>
/// One person's record at one site while it is being written: the local resource ids, and
/// which of the person's events this site holds. The decision is a hash of (person, event
/// number), never a draw from the person's generator, so every site walks the same course.
/// </summary>
public sealed class SiteChart(Population population, int site, ResourceSinks sinks)
{
    readonly string sitePrefix = population.Sites[site] + "-";
    readonly string identifierSystem = $"https://fhir.midia-hub.de/sid/{population.Sites[site]}/patient";
    Person person = null!;
    int slot, eventNumber, position, visits, conditions, observations, medications, procedures, studies, consents;

    public ResourceSinks Sinks => sinks;
    public Person Person => person;
    public string PatientId { get; private set; } = "";
    public string PatientReference { get; private set; } = "";

    /// <summary>Which of several equivalent local conventions this site follows (e.g. which LOINC for a receptor).</summary>
    public int Variant => site & 1;

    static readonly int BfarmUris = Days.From(2020, 1, 1);

    /// <summary>Odd-numbered sites never migrated their pre-2020 records: those keep the DIMDI system URIs.</summary>
    bool Legacy(int day) => Variant == 1 && day < BfarmUris;

    public void Start(Person next, int nextSlot)
    {
        person = next;
        slot = nextSlot;
        PatientId = sitePrefix + nextSlot.ToString(System.Globalization.CultureInfo.InvariantCulture);
        PatientReference = "Patient/" + PatientId;
        visits = Population.SiteCount(next.Ref.Sites);
        position = Population.SiteCount(next.Ref.Sites & ((1UL << site) - 1));
        eventNumber = conditions = observations = medications = procedures = studies = consents = 0;
    }

    /// <summary>A generator for what differs between sites for the same person (consent dates).</summary>
    public SeededRandom SiteRandom() => new(population.Seed, person.Ref.Key, 1 + (ulong)site);

    /// <summary>Does this site hold the person's next event of this kind? 80 % of a kind goes to one home site.</summary>
    public bool Holds(EventKind kind)
    {
        var n = eventNumber++;
        if (visits == 1) return true;
        var h = SeededRandom.Hash(population.Seed, person.Ref.Key, (ulong)n);
        var home = (int)(SeededRandom.Hash(population.Seed, person.Ref.Key, 0xC0DE00 + (ulong)kind) % (ulong)visits);
        return (h % 5 != 0 ? home : (int)((h >> 32) % (ulong)visits)) == position;
    }

    /// <summary>The diagnosis: its home site always codes it, each other site in half of the cases.</summary>
    public bool HoldsDiagnosis()
    {
        var n = eventNumber++;
        if (visits == 1) return true;
        var home = (int)(SeededRandom.Hash(population.Seed, person.Ref.Key, 0xC0DE00 + (ulong)EventKind.Diagnosis) % (ulong)visits);
        return home == position || SeededRandom.Hash(population.Seed, person.Ref.Key, (ulong)n) % 2 == 0;
    }

    public void Patient()
    {
        var json = sinks.Patient.Begin(Fhir.PatientType, PatientId);
        json.WriteProfile(PatientProfile);
        json.WriteStartArray(Fhir.Identifier);
        json.WriteStartObject();
        json.WriteString(Fhir.Use, Fhir.Usual);
        json.WriteConcept(Fhir.Type, MrType);
        json.WriteString(Fhir.System, identifierSystem);
        json.WriteString(Fhir.Value, (10_000_000 + slot).ToString(System.Globalization.CultureInfo.InvariantCulture));
        json.WriteEndObject();
        if (person.Kvnr is { } kvnr)
        {
            json.WriteStartObject();
            json.WriteString(Fhir.Use, Fhir.Official);
            json.WriteConcept(Fhir.Type, KvnrType);
            json.WriteString(Fhir.System, KvnrSystem);
            json.WriteString(Fhir.Value, kvnr);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray(Fhir.Name);
        json.WriteStartObject();
        json.WriteString(Fhir.Use, Fhir.Official);
        json.WriteString(Fhir.Family, person.Family);
        json.WriteStartArray(Fhir.Given);
        var given = person.Given.AsSpan();
        foreach (var range in given.Split(' ')) json.WriteStringValue(given[range]);
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteString(Fhir.Gender, person.Female ? Fhir.Female : Fhir.Male);
        json.WriteDate(Fhir.BirthDate, person.BirthDay);
        if (person.DeathDay is { } death) json.WriteDate(Fhir.DeceasedDateTime, death);
        sinks.Patient.End();
    }

    string NextId(string kind, ref int counter) => string.Concat(PatientId, kind, (++counter).ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void Condition(Concept code, int onset, Concept? alsoCodedAs = null, Concept? bodySite = null, Concept? clinicalStatus = null)
    {
        if (onset > person.End) return;
        var json = sinks.Condition.Begin(Fhir.ConditionType, NextId("-c", ref conditions));
        json.WriteProfile(ConditionProfile);
        json.WriteConcept(Fhir.ClinicalStatus, clinicalStatus ?? ClinicalActive);
        json.WriteConcept(Fhir.VerificationStatus, Confirmed);
        var recorded = Math.Min(onset + 2, person.End);
        json.WriteVersionedConcept(Fhir.Code, code, recorded, alsoCodedAs, Legacy(recorded));
        if (bodySite is not null) json.WriteConceptList(Fhir.BodySite, bodySite);
        json.WriteReference(Fhir.Subject, PatientReference);
        json.WriteDate(Fhir.OnsetDateTime, onset);
        json.WriteDate(Fhir.RecordedDate, recorded);
        sinks.Condition.End();
    }

    Utf8JsonWriter BeginObservation(JsonEncodedText? profile, Concept category, Concept code, int day)
    {
        var json = sinks.Observation.Begin(Fhir.ObservationType, NextId("-o", ref observations));
        if (profile is { } p) json.WriteProfile(p);
        json.WriteString(Fhir.Status, Fhir.Final);
        json.WriteConceptList(Fhir.Category, category);
        json.WriteConcept(Fhir.Code, code);
        json.WriteReference(Fhir.Subject, PatientReference);
        json.WriteDate(Fhir.EffectiveDateTime, day);
        return json;
    }

    public void Quantity(JsonEncodedText? profile, Concept category, Concept code, int day, double value, Concept unit, string? derivedFrom = null)
    {
        if (day > person.End) return;
        var json = BeginObservation(profile, category, code, day);
        json.WriteQuantity(Fhir.ValueQuantity, value, unit);
        if (derivedFrom is not null)
        {
            json.WriteStartArray(Fhir.DerivedFrom);
            json.WriteStartObject();
            json.WriteString(Fhir.Reference, derivedFrom);
            json.WriteEndObject();
            json.WriteEndArray();
        }
        sinks.Observation.End();
    }

    public void Coded(JsonEncodedText? profile, Concept category, Concept code, int day, Concept value)
    {
        if (day > person.End) return;
        var json = BeginObservation(profile, category, code, day);
        json.WriteConcept(Fhir.ValueCodeableConcept, value);
        sinks.Observation.End();
    }

    /// <summary>A part of a panel observation: a coded or a numeric component.</summary>
    public readonly record struct Part(Concept Code, Concept? Value, double Number = 0, Concept? Unit = null);

    /// <summary>An observation with a coded or numeric value and components (TNM, Gleason, follow-up).</summary>
    public void Panel(JsonEncodedText? profile, Concept category, Concept code, int day, Part value, params ReadOnlySpan<Part> parts)
    {
        if (day > person.End) return;
        var json = BeginObservation(profile, category, code, day);
        if (value.Value is not null) json.WriteConcept(Fhir.ValueCodeableConcept, value.Value);
        else if (value.Unit is not null) json.WriteQuantity(Fhir.ValueQuantity, value.Number, value.Unit);
        json.WriteStartArray(Fhir.Component);
        foreach (var part in parts)
        {
            json.WriteStartObject();
            json.WriteConcept(Fhir.Code, part.Code);
            if (part.Value is not null) json.WriteConcept(Fhir.ValueCodeableConcept, part.Value);
            else json.WriteQuantity(Fhir.ValueQuantity, part.Number, part.Unit!);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        sinks.Observation.End();
    }

    /// <summary>A drug taken over a period; a period reaching past the export date is still running.
    /// The drug is the site's Medication resource (MedicationCatalogue), referred to as a KDS export does.</summary>
    public void Medication(Concept atc, int start, int? end)
    {
        if (start > person.End) return;
        if (end > person.End) end = person.DeathDay;
        var json = sinks.Medication.Begin(Fhir.MedicationStatementType, NextId("-m", ref medications));
        json.WriteProfile(MedicationProfile);
        json.WriteString(Fhir.Status, end is null ? Fhir.Active : Fhir.Completed);
        json.WriteReference(Fhir.MedicationReference, "Medication/" + MedicationCatalogue.Id(population.Sites[site], atc, Legacy(start)));
        json.WriteReference(Fhir.Subject, PatientReference);
        json.WritePeriod(Fhir.EffectivePeriod, start, end);
        sinks.Medication.End();
    }

    public void Procedure(Concept ops, int day, int? end = null, Concept? bodySite = null)
    {
        if (day > person.End) return;
        if (end > person.End) end = person.End;
        var json = sinks.Procedure.Begin(Fhir.ProcedureType, NextId("-p", ref procedures));
        json.WriteProfile(ProcedureProfile);
        json.WriteString(Fhir.Status, Fhir.Completed);
        json.WriteVersionedConcept(Fhir.Code, ops, day, legacy: Legacy(day));
        json.WriteReference(Fhir.Subject, PatientReference);
        if (end is { } e) json.WritePeriod(Fhir.PerformedPeriod, day, e);
        else json.WriteDate(Fhir.PerformedDateTime, day);
        if (bodySite is not null) json.WriteConceptList(Fhir.BodySite, bodySite);
        sinks.Procedure.End();
    }

    /// <summary>An imaging study; returns its reference for observations derived from it.</summary>
    public string? ImagingStudy(Concept modality, int day, string description, int instances, Concept bodySite)
    {
        if (day > person.End) return null;
        var id = NextId("-i", ref studies);
        var json = sinks.Imaging.Begin(Fhir.ImagingStudyType, id);
        json.WriteString(Fhir.Status, Fhir.Available);
        json.WriteStartArray(Fhir.Modality);
        json.WriteCodingValue(modality);
        json.WriteEndArray();
        json.WriteReference(Fhir.Subject, PatientReference);
        json.WriteDate(Fhir.Started, day);
        json.WriteNumber(Fhir.NumberOfSeries, 1);
        json.WriteNumber(Fhir.NumberOfInstances, instances);
        json.WriteString(Fhir.Description, description);
        json.WriteStartArray(Fhir.Series);
        json.WriteStartObject();
        json.WriteString(Fhir.Uid, SeriesUid(day));
        json.WriteNumber(Fhir.Number, 1);
        json.WriteStartObject(Fhir.Modality);
        json.WriteString(Fhir.System, modality.SystemJson);
        json.WriteString(Fhir.Code, modality.CodeJson);
        json.WriteEndObject();
        json.WriteNumber(Fhir.NumberOfInstances, instances);
        json.WriteStartObject(Fhir.BodySite);
        json.WriteString(Fhir.System, bodySite.SystemJson);
        json.WriteString(Fhir.Code, bodySite.CodeJson);
        json.WriteString(Fhir.Display, bodySite.DisplayJson);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
        sinks.Imaging.End();
        return "ImagingStudy/" + id;
    }

    // A DICOM UID under the 2.25 root (one decimal number), unique per site, person and study.
    string SeriesUid(int day) => "2.25." + SeededRandom.Hash(population.Seed ^ (ulong)day, person.Ref.Key, ((ulong)site << 32) | (uint)studies).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public string NextConsentId() => NextId("-cs", ref consents);
}
