using Midia.Node.Store;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;

namespace Midia.Coordinator.Tests.Support;

/// <summary>Summary replies as the coordinator sends them, for tests of what `midia summary` makes of them.</summary>
public static class SummaryReplies
{
    public const string RevokedMessage = "shares nothing: no record of the patient there, or care-sharing not permitted";
    public const string TimeoutMessage = "no answer within 5 s";

    /// <summary>
    /// An MS and prostate-cancer patient seen at erlangen and munich; ulm does not share (the patient
    /// revoked care-sharing) and practice timed out. The PSA series arrives out of date order on purpose.
    /// </summary>
    public static SummaryReply Rich() => new()
    {
        RequestId = "req-0001",
        Sites =
        {
            new SummarySite { Site = "erlangen", Status = SiteStatus.Ok, Entries = 10, LatencyMicros = 4200 },
            new SummarySite { Site = "munich", Status = SiteStatus.Ok, Entries = 6, LatencyMicros = 5100 },
            new SummarySite { Site = "ulm", Status = SiteStatus.NotShared, Message = RevokedMessage },
            new SummarySite { Site = "practice", Status = SiteStatus.Timeout, Message = TimeoutMessage },
        },
        Entries =
        {
            Entry("condition", "problems", CodeSystems.Icd10Gm, "G35", "Multiple sclerosis", "2018-05-02", sites: ["erlangen", "munich"]),
            Entry("observation", "results", CodeSystems.MidiaMs, "edss", "Expanded Disability Status Scale (EDSS)", "2018-05-02", value: 2.0, unit: "{score}"),
            Entry("medication", "medications", CodeSystems.Atc, "L04AG08", "ocrelizumab", "2018-06-01", end: "2021-03-01"),
            Entry("observation", "results", CodeSystems.MidiaMs, "edss", "Expanded Disability Status Scale (EDSS)", "2019-05-02", value: 2.5, unit: "{score}", sites: ["erlangen", "munich"]),
            Entry("imaging", "imaging", CodeSystems.Dicom, "MR", "MRI brain with contrast", "2019-11-20", sites: ["munich"]),
            Entry("condition", "problems", CodeSystems.Icd10Gm, "C61", "Malignant neoplasm of prostate", "2020-01-15"),
            Entry("observation", "results", CodeSystems.Loinc, "2857-1", "PSA", "2021-01-10", value: 0.9, unit: "ng/mL"),
            Entry("observation", "results", CodeSystems.Loinc, "2857-1", "PSA", "2020-01-10", value: 8.2, unit: "ng/mL"),
            Entry("observation", "staging", CodeSystems.Snomed, "399504009", "cT category", "2020-01-20", valueSystem: "https://www.uicc.org/resources/tnm", valueCode: "T2", valueDisplay: "cT2"),
            Entry("observation", "staging", CodeSystems.Snomed, "399534004", "cN category", "2020-01-20", valueSystem: CodeSystems.Snomed, valueCode: "369833007"),
            Entry("procedure", "procedures", CodeSystems.Ops, "5-604", "Radical prostatectomy", "2020-02-10"),
            Entry("observation", "staging", CodeSystems.Snomed, "396432002", "Status of regression of tumor", "2020-06-06", valueSystem: "https://fhir.midia-hub.de/CodeSystem/tumour-status", valueCode: "V", sites: ["munich"]),
            Entry("medication", "medications", CodeSystems.Atc, "L02AE02", "leuprorelin", "2020-03-01", sites: ["munich"]),
            Entry("observation", "results", CodeSystems.Loinc, "2857-1", "PSA", "2020-07-10", value: 0.1, unit: "ng/mL", sites: ["munich"]),
            Entry("observation", "results", CodeSystems.Loinc, "2857-1", "PSA", "2020-04-10", value: 0.4, unit: "ng/mL", sites: ["erlangen", "munich"]),
            Entry("observation", "results", CodeSystems.Loinc, "2857-1", "PSA", "2021-06-10", value: 2.3, unit: "ng/mL"),
            Entry("observation", "results", CodeSystems.Loinc, "2039-6", "CEA", "", value: 3.1, unit: "ng/mL"),
        },
    };

    /// <summary>Only problems, from one site; the other sites as given.</summary>
    public static SummaryReply ProblemsOnly(params SummarySite[] others)
    {
        var reply = new SummaryReply { RequestId = "req-0002" };
        reply.Sites.Add(new SummarySite { Site = "erlangen", Status = SiteStatus.Ok, Entries = 1 });
        reply.Sites.AddRange(others);
        reply.Entries.Add(Entry("condition", "problems", CodeSystems.Icd10Gm, "G35", "Multiple sclerosis", "2018-05-02"));
        return reply;
    }

    public static TimelineEntry Entry(string kind, string section, string system, string code, string display, string date,
        string end = "", double? value = null, string unit = "", string valueSystem = "", string valueCode = "", string valueDisplay = "", string[]? sites = null)
    {
        var entry = new SummaryEntry
        {
            Kind = kind, Section = section, System = system, Code = code, Display = display, Date = date, EndDate = end,
            Unit = unit, ValueSystem = valueSystem, ValueCode = valueCode, ValueDisplay = valueDisplay,
        };
        if (value is { } v) entry.Value = v;
        return new TimelineEntry { Entry = entry, Sites = { sites ?? ["erlangen"] } };
    }
}
