using System.Text.Json;
using static Midia.Care.Codes.Vocabulary;

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
            // signed at this site between the form's introduction (or birth) and death, revocation or the export date
            var earliest = Math.Max(Person.BroadConsentEra, p.BirthDay + 30);
            var latest = Math.Min(last, (p.ResearchRevokedDay ?? int.MaxValue) - 30);
            var timeLimited = p.TimeLimitedConsent && Math.Max(earliest, reference - 10 * Days.Year) <= Math.Min(latest, reference - FiveYears - 30);
            if (timeLimited) (earliest, latest) = (Math.Max(earliest, reference - 10 * Days.Year), Math.Min(latest, reference - FiveYears - 30)); // the 5-year form has run out
            if (earliest <= latest)
            {
                var signed = r.Between(earliest, latest);
                var until = signed + (timeLimited ? FiveYears : ThirtyYears);
                var json = Begin(c, ScopeResearch, BroadConsentPolicyUri, signed, until);
                WriteProvision(json, Fhir.Permit, signed, until, IdatCollect);
                WriteProvision(json, Fhir.Permit, signed, until, IdatStore);
                WriteProvision(json, Fhir.Permit, signed, until, IdatProvide);
                WriteProvision(json, Fhir.Permit, signed, Math.Min(until, signed + FiveYears), MdatCollect);
                WriteProvision(json, Fhir.Permit, signed, until, MdatStore);
                WriteProvision(json, Fhir.Permit, signed, until, MdatResearch);
                if (r.Chance(0.6)) WriteProvision(json, Fhir.Permit, signed, until, MdatMerge);
                if (r.Chance(0.7)) WriteProvision(json, Fhir.Permit, signed, Math.Min(until, signed + FiveYears), Recontact);
                End(c);

                if (p.ResearchRevokedDay is { } revoked && revoked <= last && revoked < until)
                {
                    // a revocation is a later document of denies for what is withdrawn
                    json = Begin(c, ScopeResearch, BroadConsentPolicyUri, revoked, until);
                    WriteProvision(json, Fhir.Deny, revoked, until, MdatResearch);
                    WriteProvision(json, Fhir.Deny, revoked, until, MdatMerge);
                    End(c);
                }
            }
        }

        if (p.CareSharing)
        {
            var earliest = Math.Max(Person.CareSharingEra, p.BirthDay + 30);
            var latest = Math.Min(last, (p.CareSharingRevokedDay ?? int.MaxValue) - 14);
            if (earliest > latest) return; // died (or was born) too late to have been asked
            var signed = r.Between(earliest, latest);
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
