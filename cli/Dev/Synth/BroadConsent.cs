using System.Text.Json;
using static Midia.Cli.Dev.Synth.Vocabulary;

namespace Midia.Cli.Dev.Synth;

/// <summary>
/// The consent documents a site holds for a patient, in the MII shape: scope, a top-level deny
/// with the document's validity period, nested permits (or, in a revocation, denies) per
/// policy code. Whether someone consented, revoked or chose the time-limited form is the
/// person's choice (same at every site); when they signed differs per site.
/// </summary>
public static class BroadConsent
{
    const int ThirtyYears = 30 * Days.Year + 7, FiveYears = 5 * Days.Year + 1, TenYears = 10 * Days.Year + 2;

    public static void Write(SiteChart c)
    {
        var p = c.Person;
        var r = c.SiteRandom();
        var reference = Person.Reference;
        var last = Math.Min(p.End, reference - 1);
        if (p.BroadConsent)
        {
            int signed;
            if (p.TimeLimitedConsent) signed = r.Between(reference - 10 * Days.Year, reference - FiveYears - 30); // the 5-year form has run out
            else
            {
                var latest = Math.Min(last, (p.ResearchRevokedDay ?? int.MaxValue) - 30);
                signed = r.Between(Math.Min(BroadConsentEra(p), latest), latest);
            }
            var validity = p.TimeLimitedConsent ? FiveYears : ThirtyYears;
            var until = signed + validity;
            var json = Begin(c, ScopeResearch, BroadConsentPolicyUri, signed, until);
            WriteProvision(json, Fhir.Permit, signed, until, IdatCollect);
            WriteProvision(json, Fhir.Permit, signed, until, IdatStore);
            WriteProvision(json, Fhir.Permit, signed, until, IdatProvide);
            WriteProvision(json, Fhir.Permit, signed, signed + FiveYears, MdatCollect);
            WriteProvision(json, Fhir.Permit, signed, until, MdatStore);
            WriteProvision(json, Fhir.Permit, signed, until, MdatResearch);
            if (r.Chance(0.6)) WriteProvision(json, Fhir.Permit, signed, until, MdatMerge);
            if (r.Chance(0.7)) WriteProvision(json, Fhir.Permit, signed, signed + FiveYears, Recontact);
            End(c);

            if (p.ResearchRevokedDay is { } revoked && revoked <= last)
            {
                // a revocation is a later document of denies for what is withdrawn
                json = Begin(c, ScopeResearch, BroadConsentPolicyUri, revoked, until);
                WriteProvision(json, Fhir.Deny, revoked, until, MdatResearch);
                WriteProvision(json, Fhir.Deny, revoked, until, MdatMerge);
                End(c);
            }
        }

        if (p.CareSharing)
        {
            var latest = Math.Min(last, (p.CareSharingRevokedDay ?? int.MaxValue) - 14);
            var signed = r.Between(Math.Min(Person.CareSharingEra, latest), latest);
            var until = signed + TenYears;
            var json = Begin(c, ScopePrivacy, CareSharingPolicyUri, signed, until);
            WriteProvision(json, Fhir.Permit, signed, until, CareSharing);
            End(c);
            if (p.CareSharingRevokedDay is { } revoked && revoked <= last)
            {
                json = Begin(c, ScopePrivacy, CareSharingPolicyUri, revoked, until);
                WriteProvision(json, Fhir.Deny, revoked, until, CareSharing);
                End(c);
            }
        }
    }

    // adults sign themselves; for children the parents' consent dates from birth at the earliest
    static int BroadConsentEra(Person p) => Math.Max(Person.BroadConsentEra, p.BirthDay + 30);

    static Utf8JsonWriter Begin(SiteChart c, Concept scope, JsonEncodedText policy, int signed, int until)
    {
        var json = c.Sinks.Consent.Begin(Fhir.ConsentType, c.NextConsentId());
        json.WriteProfile(ConsentProfile);
        json.WriteString(Fhir.Status, Fhir.Active);
        json.WriteConcept(Fhir.Scope, scope);
        json.WriteConceptList(Fhir.Category, ConsentDocument);
        json.WriteReference(Fhir.Patient, c.PatientReference);
        json.WriteDate(Fhir.DateTime, signed);
        json.WriteStartArray(Fhir.Policy);
        json.WriteStartObject();
        json.WriteString(Fhir.Uri, policy);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteStartObject(Fhir.Provision);
        json.WriteString(Fhir.Type, Fhir.Deny);
        json.WritePeriod(Fhir.Period, signed, until);
        json.WriteStartArray(Fhir.Provision);
        return json;
    }

    static void WriteProvision(Utf8JsonWriter json, JsonEncodedText type, int start, int end, Concept policy)
    {
        json.WriteStartObject();
        json.WriteString(Fhir.Type, type);
        json.WritePeriod(Fhir.Period, start, end);
        json.WriteStartArray(Fhir.Code);
        json.WriteStartObject();
        json.WriteStartArray(Fhir.Coding);
        json.WriteCodingValue(policy);
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    static void End(SiteChart c)
    {
        var json = c.Sinks.Consent.Json;
        json.WriteEndArray();
        json.WriteEndObject();
        c.Sinks.Consent.End();
    }
}
