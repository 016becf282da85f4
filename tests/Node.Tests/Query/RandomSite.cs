using System.Text.Json.Nodes;

namespace Midia.Node.Tests.Query;

/// <summary>
/// Seeded random site data (patients, coded facts of several kinds, attributes, references between
/// resources, consent provisions) inserted directly into a SiteFile, kept as plain lists for the
/// reference evaluator; and seeded random CCDL queries over the same codes, written with the
/// spellings real queries use (dimdi/bfarm, F/female, old/new ATC, mL/ml), with contexts, hierarchy
/// codes (ICD chapters and groups, OPS groups, ATC levels, SNOMED parents), negation, reference
/// filters, consent criteria and — as CCDL v3 — groups with relative time restrictions.
/// Values and dates come from small pools so comparators, time bounds and windows hit their boundaries.
/// </summary>
sealed class RandomSite
{
    public const string Icd = "http://fhir.de/CodeSystem/bfarm/icd-10-gm";
    public const string IcdOld = "http://fhir.de/CodeSystem/dimdi/icd-10-gm";
    public const string IcdWho = "http://hl7.org/fhir/sid/icd-10";
    public const string Ops = "http://fhir.de/CodeSystem/bfarm/ops";
    public const string OpsOld = "http://fhir.de/CodeSystem/dimdi/ops";
    public const string Atc = "http://fhir.de/CodeSystem/bfarm/atc";
    public const string Loinc = "http://loinc.org";
    public const string Snomed = "http://snomed.info/sct";
    public const string Local = "urn:example:local-codes";
    public const string MiiPolicy = "urn:oid:2.16.840.1.113883.3.1937.777.24.5.3";
    const string MiiRoot = "2.16.840.1.113883.3.1937.777.24.5.3";

    static readonly string[] IcdCodes = ["C50", "C50.4", "C50.41", "C50.9", "C61", "G35", "G35.1", "E11.9", "I10", "D05.1", "F00.9", "D48.1", "G20"];
    static readonly string[] IcdQueryCodes =
        ["C50", "C50.4", "C50.41", "C50.-", "C61", "G35", "E11", "I10", "D05", "C5", "Z99.9", "C00-C97", "C50-C50", "II", "VI", "2", "E10-E14", "D00-D09"];
    static readonly string[] DeathCodes = ["C50.9", "I21.9", "G35"];
    static readonly string[] OpsCodes = ["5-870", "5-872.1", "8-522.x", "8-52", "8-53", "5-604.02", "1-650.2"];
    static readonly string[] OpsQueryCodes = ["5-87", "5-870", "5-872", "8-52", "8-522", "8-53", "9-99", "5", "8", "5-86...5-88", "8-52...8-54", "5-60...5-64"];
    static readonly string[] AtcCodes = ["L04AA36", "L04AG08", "L01FD01", "L01XC03", "L02BA01", "L04AA23", "N07XX09", "L04AX07", "L02BG04"];
    static readonly string[] AtcQueryCodes = ["L04AA36", "L04AG08", "L01FD01", "L01XC03", "L02BA01", "L04AG03", "L04AX07", "L04AA", "L04AG", "L04", "N07XX", "L01F", "L02B", "L"];
    static readonly string[] SnomedConditionCodes = ["24700007", "426373005", "425500002"];
    static readonly string[] SnomedQueryCodes = ["24700007", "426373005", "428700003", "76752008"];
    static readonly string[] SpecimenTypes = ["119364003", "119361006", "119376003"];
    static readonly string[] SpecimenQueryTypes = ["119364003", "119297000", "123038009", "119376003"];
    static readonly (string, string)[] BodySites = [(Snomed, "80248007"), (Snomed, "73056007")];
    static readonly (string, string)[] BodySiteQueries = [(Snomed, "76752008"), (Snomed, "80248007"), (Snomed, "73056007")];
    static readonly double[] PsaValues = [0, 1, 2, 3.5, 4, 4.0001, 5, 10];
    static readonly string?[] PsaUnits = ["ng/mL", "ng/ml", "ug/L", null, ""];
    static readonly string?[] PsaQueryUnits = ["ng/mL", "ng/ml", "ug/L", "ug/l", null];
    static readonly (string, string)[] Her2Values = [(Loinc, "LA6576-8"), (Loinc, "LA6577-6"), (Snomed, "10828004")];
    static readonly double[] HbValues = [10, 12.5, 14];
    static readonly string[] HbUnits = ["g/dL", "g/dl", "mmol/L"];
    static readonly (string, string)[] Stages = [(Snomed, "T1"), (Snomed, "T2"), (Snomed, "T3")];
    static readonly (string, string)[] Methods = [(Loinc, "LA1"), (Loinc, "LA2")];
    static readonly double[] Sizes = [5, 10, 20];
    static readonly string[] SexCodes = ["F", "female", "M", "male", "other", "D", "unknown", "Q"];
    static readonly double[] Ages = [0, 1, 17, 18, 50, 51, 64, 65, 90];
    static readonly int[] Policies = [8, 9, 10, 37, 26, 27, 28, 29, 30, 31, 49];
    static readonly DateOnly FirstDay = new(2021, 9, 1);
    public static readonly DateOnly[] Todays = [new(2025, 2, 28), new(2025, 3, 1), new(2024, 2, 29), new(2026, 6, 15)];

    public List<RefPatient> Patients { get; } = [];
    public List<RefFact> Facts { get; } = [];
    public List<RefAttribute> Attributes { get; } = [];
    public List<RefLink> Links { get; } = [];
    public List<RefProvision> Provisions { get; } = [];

    /// <param name="consent">Also write random consent provisions (MII policies): for queries with consent criteria.</param>
    public static RandomSite Fill(SiteFile site, int seed, int patients, bool consent = false)
    {
        var random = new Random(seed);
        var data = new RandomSite();
        site.Batch(() =>
        {
            for (int i = 0; i < patients; i++) data.AddPatient(site, random, consent);
        });
        site.Commit();
        return data;
    }

    void AddPatient(SiteFile site, Random random, bool consent)
    {
        var sex = random.Next(20) switch { < 9 => "female", < 18 => "male", 18 => "other", _ => "unknown" };
        DateOnly? birth = random.Next(20) switch
        {
            0 => null,
            1 => new DateOnly(1940 + 4 * random.Next(21), 2, 29),
            2 or 3 => Pick(random, Todays).AddDays(random.Next(-2, 3)).AddYears(-random.Next(0, 95)),
            _ => new DateOnly(1930, 1, 1).AddDays(random.Next(95 * 365)),
        };
        var pid = site.Patient(sex, birth);
        Patients.Add(new RefPatient(pid, sex, birth));

        var conditions = new List<string>();
        int count = random.Next(0, 13);
        for (int i = 0; i < count; i++)
        {
            DateOnly? date = random.Next(10) == 0 ? null : FirstDay.AddDays(random.Next(61));
            DateOnly? end = date is { } d && random.Next(2) == 0 ? d.AddDays(random.Next(0, 20)) : null;
            switch (random.Next(11))
            {
                case 0 or 1:
                {
                    var id = AddFact(site, pid, Icd, Pick(random, IcdCodes), date, null, null, null, "Condition");
                    conditions.Add(id);
                    if (random.Next(2) == 0) AddAttribute(site, "Condition", id, "stage", Pick(random, Stages), null, null);
                    if (random.Next(3) == 0) AddAttribute(site, "Condition", id, "size", null, Pick(random, Sizes), random.Next(2) == 0 ? "mm" : "cm");
                    if (random.Next(3) == 0) AddAttribute(site, "Condition", id, "bodysite", Pick(random, BodySites), null, null);
                    break;
                }
                case 2:
                    AddFact(site, pid, Ops, Pick(random, OpsCodes), date, null, null, null, "Procedure", end: end);
                    break;
                case 3:
                {
                    var id = AddFact(site, pid, Loinc, "2857-1", date, Pick(random, PsaValues), Pick(random, PsaUnits), null, "Observation");
                    if (random.Next(3) == 0) AddAttribute(site, "Observation", id, "method", Pick(random, Methods), null, null);
                    break;
                }
                case 4:
                    AddFact(site, pid, Loinc, "48676-1", date, null, null, Pick(random, Her2Values), "Observation");
                    break;
                case 5:
                    AddFact(site, pid, Loinc, "718-7", date, Pick(random, HbValues), Pick(random, HbUnits), null, "Observation");
                    break;
                case 6:
                    AddFact(site, pid, Atc, Pick(random, AtcCodes), date, null, null, null, random.Next(4) == 0 ? "MedicationRequest" : "MedicationStatement", end: end);
                    break;
                case 7:
                    AddFact(site, pid, Local, "X1", date, null, null, null, "Observation");
                    break;
                case 8:
                    // SNOMED MS codes as diagnoses, and 24700007 also as an observation's code: only the context tells them apart.
                    if (random.Next(3) > 0) conditions.Add(AddFact(site, pid, Snomed, Pick(random, SnomedConditionCodes), date, null, null, null, "Condition"));
                    else AddFact(site, pid, Snomed, "24700007", date, null, null, (Snomed, "10828004"), "Observation");
                    break;
                case 9:
                {
                    // A specimen; often taken for one of the patient's diagnoses (MII biobank extension).
                    var id = AddFact(site, pid, Snomed, Pick(random, SpecimenTypes), date, null, null, null, "Specimen");
                    if (conditions.Count > 0 && random.Next(4) > 0) AddLink(site, "Specimen", id, "festgestelltediagnose", "Condition", Pick(random, conditions.ToArray()));
                    break;
                }
                default:
                    AddFact(site, pid, IcdWho, Pick(random, DeathCodes), date, null, null, null, "Condition", Store.FactKind.CauseOfDeath);
                    break;
            }
        }
        if (!consent) return;
        int provisions = random.Next(0, 6);
        for (int i = 0; i < provisions; i++)
        {
            var start = random.Next(4) == 0 ? (DateOnly?)null : new DateOnly(2019, 1, 1).AddDays(random.Next(2500));
            var end = random.Next(3) == 0 ? (DateOnly?)null : (start ?? new DateOnly(2020, 1, 1)).AddDays(random.Next(200, 3000));
            var provision = new RefProvision(pid, $"{MiiRoot}.{Pick(random, Policies)}", random.Next(5) > 0, start, end);
            site.Provision(pid, provision.Policy, provision.Permit, provision.Start, provision.End);
            Provisions.Add(provision);
        }
    }

    string AddFact(SiteFile site, long pid, string system, string code, DateOnly? date, double? value, string? unit, (string, string)? concept, string resourceType,
        Store.FactKind? kind = null, DateOnly? end = null)
    {
        kind ??= SiteFile.KindOf(resourceType);
        var id = site.Fact(pid, system, code, date, value, unit, concept, resourceType, kind: kind, end: end);
        Facts.Add(new RefFact(pid, system, code, date, value, unit, concept?.Item1, concept?.Item2, resourceType, id, (int)kind, end));
        return id;
    }

    void AddAttribute(SiteFile site, string resourceType, string id, string name, (string, string)? concept, double? value, string? unit)
    {
        site.Attribute(resourceType, id, name, concept, value, unit);
        Attributes.Add(new RefAttribute(resourceType, id, name, concept?.Item1, concept?.Item2, value, unit));
    }

    void AddLink(SiteFile site, string resourceType, string id, string name, string targetType, string targetId)
    {
        site.Link(resourceType, id, name, targetType, targetId);
        Links.Add(new RefLink(resourceType, id, name, targetType, targetId));
    }

    // --- queries ---------------------------------------------------------------------------------

    /// <summary>A flat (CCDL 2 shaped) random query; consent criteria only when the site has provisions.</summary>
    public static string Query(Random random, bool consent = false)
    {
        var query = new JsonObject { ["version"] = Pick(random, ["2", "2", "2.0.0", "https://medizininformatik-initiative.de/fdpg/StructuredQuery/v3/schema", "3"]) };
        if (random.Next(3) == 0) query["display"] = "random query";
        var inclusion = new JsonArray();
        int groups = random.Next(0, 4);
        for (int g = 0; g < groups; g++)
        {
            var group = new JsonArray();
            int size = random.Next(1, 4);
            for (int c = 0; c < size; c++) group.Add(Criterion(random, consent, negatable: true));
            inclusion.Add(group);
        }
        if (groups > 0 || random.Next(2) == 0) query["inclusionCriteria"] = inclusion;
        int exclusions = random.Next(0, 3);
        if (exclusions > 0)
        {
            var exclusion = new JsonArray();
            for (int g = 0; g < exclusions; g++)
            {
                var group = new JsonArray();
                int size = random.Next(1, 3);
                for (int c = 0; c < size; c++) group.Add(Criterion(random, consent, negatable: true));
                exclusion.Add(group);
            }
            query["exclusionCriteria"] = exclusion;
        }
        return query.ToJsonString();
    }

    static JsonObject Context(string code) => new() { ["system"] = "fdpg.mii.cds", ["code"] = code, ["display"] = code, ["version"] = "1.0.0" };

    /// <summary>The criterion's own context, another one now and then (which the data then must not match), or none.</summary>
    static void MaybeContext(Random random, JsonObject criterion, string right, params string[] wrong)
    {
        var roll = random.Next(10);
        if (roll < 6) criterion["context"] = Context(right);
        else if (roll < 8 && wrong.Length > 0) criterion["context"] = Context(Pick(random, wrong));
    }

    static JsonObject Criterion(Random random, bool consent, bool negatable, bool dated = false)
    {
        var criterion = new JsonObject();
        switch (random.Next(dated ? 6 : consent ? 12 : 11))
        {
            case 0:
                criterion["termCodes"] = Codes(random, () => random.Next(2) == 0 ? Icd : IcdOld, IcdQueryCodes);
                MaybeContext(random, criterion, "Diagnose", "Laboruntersuchung", "Todesursache");
                MaybeTime(random, criterion);
                if (random.Next(4) == 0)
                    criterion["attributeFilters"] = new JsonArray(random.Next(3) switch
                    {
                        0 => Concept(random, Stages, new JsonObject { ["code"] = "stage", ["system"] = "mii.abide" }),
                        1 => Concept(random, BodySiteQueries, new JsonObject { ["code"] = "bodySite" }),
                        _ => Quantity(random, Sizes, ["mm", "cm"], new JsonObject { ["code"] = "Size" }),
                    });
                break;
            case 1:
                criterion["termCodes"] = Codes(random, () => Pick(random, [IcdWho, Icd]), ["C50", "I21", "G35", "II", "IX", "C00-C97"]);
                MaybeContext(random, criterion, "Todesursache", "Diagnose");
                MaybeTime(random, criterion);
                break;
            case 2:
                criterion["termCodes"] = Codes(random, () => random.Next(2) == 0 ? Ops : OpsOld, OpsQueryCodes);
                MaybeContext(random, criterion, random.Next(2) == 0 ? "Prozedur" : "Procedure", "Diagnose");
                MaybeTime(random, criterion);
                break;
            case 3:
                criterion["termCodes"] = new JsonArray(Coding(Loinc, "2857-1"));
                criterion["valueFilter"] = Quantity(random, PsaValues, PsaQueryUnits, null);
                MaybeContext(random, criterion, "Laboruntersuchung", "Diagnose");
                MaybeTime(random, criterion);
                if (random.Next(4) == 0)
                    criterion["attributeFilters"] = new JsonArray(Concept(random, Methods, new JsonObject { ["code"] = "method" }));
                break;
            case 4:
                criterion["termCodes"] = Codes(random, () => Pick(random, [Atc, "http://fhir.de/CodeSystem/dimdi/atc", "http://www.whocc.no/atc"]), AtcQueryCodes);
                MaybeContext(random, criterion, Pick(random, ["Medikamentenverabreichung", "Medikation"]), "Medikamentenverordnung", "Prozedur");
                MaybeTime(random, criterion);
                break;
            case 5:
                criterion["termCodes"] = Codes(random, () => Snomed, random.Next(3) == 0 ? SpecimenQueryTypes : SnomedQueryCodes);
                MaybeContext(random, criterion, Pick(random, ["Diagnose", "Bioprobe"]), "Laboruntersuchung", "Specimen");
                MaybeTime(random, criterion);
                if (random.Next(3) == 0)
                {
                    // A specimen criterion with a reference to its diagnosis (FDPG: festgestellteDiagnose; the CCDL example: diagnose).
                    var nested = new JsonArray();
                    for (int i = random.Next(1, 3); i > 0; i--)
                    {
                        var target = new JsonObject { ["termCodes"] = Codes(random, () => random.Next(2) == 0 ? Icd : Snomed, random.Next(2) == 0 ? IcdQueryCodes : SnomedQueryCodes) };
                        if (random.Next(2) == 0) target["context"] = Context("Diagnose");
                        if (random.Next(4) == 0) target["attributeFilters"] = new JsonArray(Concept(random, Stages, new JsonObject { ["code"] = "stage" }));
                        nested.Add(target);
                    }
                    criterion["attributeFilters"] = new JsonArray(new JsonObject
                    {
                        ["type"] = "reference",
                        ["attributeCode"] = new JsonObject { ["code"] = random.Next(2) == 0 ? "festgestellteDiagnose" : "diagnose", ["system"] = "http://hl7.org/fhir/StructureDefinition" },
                        ["criteria"] = nested,
                    });
                }
                break;
            case 6:
                criterion["termCodes"] = new JsonArray(Coding(Loinc, "48676-1"));
                criterion["valueFilter"] = Concept(random, Her2Values, null);
                MaybeContext(random, criterion, "Laboruntersuchung");
                MaybeTime(random, criterion);
                break;
            case 7:
            {
                var concepts = new JsonArray();
                int n = random.Next(1, 3);
                for (int i = 0; i < n; i++)
                    concepts.Add(new JsonObject { ["code"] = Pick(random, SexCodes), ["system"] = random.Next(2) == 0 ? "" : "https://fhir.loinc.org/CodeSystem/$lookup?system=http://loinc.org&code=LL2191-6" });
                criterion["termCodes"] = new JsonArray(random.Next(4) == 0 ? Coding(Snomed, "263495000") : Coding(Loinc, "LL2191-6"));
                criterion["valueFilter"] = new JsonObject { ["type"] = "concept", ["selectedConcepts"] = concepts };
                if (random.Next(2) == 0) criterion["context"] = Context("Patient");
                break;
            }
            case 8:
                criterion["termCodes"] = new JsonArray(random.Next(2) == 0 ? Coding(Loinc, "30525-0") : Coding(Snomed, "424144002"));
                criterion["valueFilter"] = Quantity(random, Ages, ["a", "year"], null);
                if (random.Next(2) == 0) criterion["context"] = Context("Patient");
                break;
            case 9:
                criterion["termCodes"] = random.Next(2) == 0 ? new JsonArray(Coding(Local, "X1")) : new JsonArray(Coding(Loinc, "718-7"));
                if (random.Next(2) == 0) criterion["valueFilter"] = Quantity(random, HbValues, ["g/dL", "g/dl", "mmol/L", "mmol/l"], null);
                MaybeTime(random, criterion);
                break;
            case 10:
                criterion["termCodes"] = Codes(random, () => Atc, ["L04AA", "L01XC03", "L02BG04", "L04AX07"]);
                criterion["context"] = Context("Medikamentenverordnung");
                MaybeTime(random, criterion);
                break;
            default:
            {
                // The FDPG consent criterion: combined codes, or an MII policy code as such.
                var codes = new JsonArray();
                for (int i = random.Next(1, 3); i > 0; i--)
                    codes.Add(random.Next(4) == 0
                        ? Coding(MiiPolicy, random.Next(2) == 0 ? $"{MiiRoot}.{Pick(random, Policies)}" : $"{Pick(random, Policies)}")
                        : Coding("fdpg.consent.combined", string.Join("-", Enumerable.Range(0, 4).Select(_ => random.Next(3) == 0 ? "no" : "yes"))));
                criterion["termCodes"] = codes;
                criterion["context"] = Context("Einwilligung");
                break;
            }
        }
        if (negatable && random.Next(10) == 0) criterion["negated"] = true;
        return criterion;
    }

    /// <summary>A CCDL v3 document: group arrays of groups, some anchors (first/last, start/end), some
    /// groups windowed relative to them (chains, several entries, now), on both sides.</summary>
    public static string GroupedQuery(Random random)
    {
        var anchors = new List<string>();
        int next = 0;
        JsonObject Group(bool exclusion)
        {
            var id = $"g{next++}";
            var group = new JsonObject { ["id"] = id };
            var windowed = anchors.Count > 0 && random.Next(3) > 0;
            if (random.Next(12) == 0 && !exclusion)
            {
                group["criteria"] = new JsonArray(new JsonArray(new JsonObject { ["type"] = "now" }));
                anchors.Add(id);
                return group;
            }
            bool anchor = !exclusion && random.Next(2) == 0;
            var clauses = new JsonArray();
            // An exclusion group never serves as an anchor here; an anchor or a windowed group holds dated facts only.
            int clauseCount = random.Next(1, anchor || windowed ? 3 : 3);
            for (int c = 0; c < clauseCount; c++)
            {
                var clause = new JsonArray();
                for (int i = random.Next(1, 3); i > 0; i--) clause.Add(Criterion(random, consent: false, negatable: false, dated: anchor || windowed));
                clauses.Add(clause);
            }
            group["criteria"] = clauses;
            if (windowed)
            {
                var entries = new JsonArray();
                for (int e = random.Next(1, 3); e > 0; e--)
                {
                    var entry = new JsonObject { ["anchorRef"] = Pick(random, anchors.ToArray()) };
                    var min = Pick(random, new string?[] { "-P10D", "P0D", "P3D", "-PT48H", null, "P1W" });
                    var max = Pick(random, new string?[] { "P0D", "P7D", "P30D", "P1M", null, "PT24H" });
                    if (min is null && max is null) max = "P14D";
                    if (min is not null) entry["minOffset"] = min;
                    if (max is not null) entry["maxOffset"] = max;
                    entries.Add(entry);
                }
                group["relativeTimeRestrictions"] = entries;
            }
            if (anchor)
            {
                group["anchorOccurrence"] = random.Next(2) == 0 ? "first" : "last";
                if (random.Next(3) == 0) group["anchorPoint"] = random.Next(2) == 0 ? "end" : "start";
                anchors.Add(id);
            }
            return group;
        }
        JsonArray Arrays(int count, bool exclusion)
        {
            var arrays = new JsonArray();
            for (int a = 0; a < count; a++)
            {
                var array = new JsonArray();
                for (int g = random.Next(1, 4); g > 0; g--) array.Add(Group(exclusion));
                arrays.Add(array);
            }
            return arrays;
        }
        var query = new JsonObject { ["version"] = "3", ["inclusionCriteria"] = Arrays(random.Next(1, 3), exclusion: false) };
        if (random.Next(2) == 0) query["exclusionCriteria"] = Arrays(random.Next(1, 3), exclusion: true);
        return query.ToJsonString();
    }

    static JsonArray Codes(Random random, Func<string> system, string[] pool)
    {
        var codes = new JsonArray();
        int n = random.Next(1, 3);
        for (int i = 0; i < n; i++) codes.Add(Coding(system(), Pick(random, pool)));
        return codes;
    }

    static JsonObject Coding(string system, string code) => new() { ["system"] = system, ["code"] = code, ["display"] = code };

    static void MaybeTime(Random random, JsonObject criterion)
    {
        if (random.Next(3) != 0) return;
        var a = FirstDay.AddDays(random.Next(-2, 63));
        var b = a.AddDays(random.Next(0, 30));
        var time = new JsonObject();
        if (random.Next(3) != 0) time["afterDate"] = a.ToString("yyyy-MM-dd");
        if (random.Next(3) != 0) time["beforeDate"] = random.Next(5) == 0 ? b.ToString("yyyy-MM-dd") + "T00:00:00" : b.ToString("yyyy-MM-dd");
        criterion["timeRestriction"] = time;
    }

    static JsonObject Concept(Random random, (string System, string Code)[] pool, JsonObject? attributeCode)
    {
        var concepts = new JsonArray();
        int n = random.Next(1, 3);
        for (int i = 0; i < n; i++)
        {
            var (system, code) = random.Next(8) == 0 ? (Snomed, "999") : Pick(random, pool);
            concepts.Add(new JsonObject { ["system"] = system, ["code"] = code, ["display"] = code });
        }
        var filter = new JsonObject { ["type"] = "concept", ["selectedConcepts"] = concepts };
        if (attributeCode is not null) filter["attributeCode"] = attributeCode;
        return filter;
    }

    static JsonObject Quantity(Random random, double[] values, string?[] units, JsonObject? attributeCode)
    {
        JsonObject filter;
        if (random.Next(3) == 0)
        {
            var x = Pick(random, values);
            var y = Pick(random, values);
            filter = new JsonObject { ["type"] = "quantity-range", ["minValue"] = Math.Min(x, y), ["maxValue"] = Math.Max(x, y) };
        }
        else
            filter = new JsonObject { ["type"] = "quantity-comparator", ["comparator"] = Pick(random, ["eq", "ne", "lt", "le", "gt", "ge"]), ["value"] = Pick(random, values) };
        if (Pick(random, units) is { } unit) filter["unit"] = new JsonObject { ["code"] = unit, ["display"] = unit };
        if (attributeCode is not null) filter["attributeCode"] = attributeCode;
        return filter;
    }

    static T Pick<T>(Random random, T[] pool) => pool[random.Next(pool.Length)];
}
