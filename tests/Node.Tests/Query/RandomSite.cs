using System.Text.Json.Nodes;

namespace Midia.Node.Tests.Query;

/// <summary>
/// Seeded random site data (patients, coded facts, attributes) inserted directly into a SiteFile,
/// kept as plain lists for the reference evaluator; and seeded random CCDL queries over the same
/// codes, written with the spellings real queries use (dimdi/bfarm, F/female, old/new ATC, mL/ml).
/// Values and dates come from small pools so comparators and time bounds hit their boundaries.
/// </summary>
sealed class RandomSite
{
    public const string Icd = "http://fhir.de/CodeSystem/bfarm/icd-10-gm";
    public const string IcdOld = "http://fhir.de/CodeSystem/dimdi/icd-10-gm";
    public const string Ops = "http://fhir.de/CodeSystem/bfarm/ops";
    public const string OpsOld = "http://fhir.de/CodeSystem/dimdi/ops";
    public const string Atc = "http://fhir.de/CodeSystem/bfarm/atc";
    public const string Loinc = "http://loinc.org";
    public const string Snomed = "http://snomed.info/sct";
    public const string Local = "urn:example:local-codes";

    static readonly string[] IcdCodes = ["C50", "C50.4", "C50.41", "C50.9", "C61", "G35", "G35.1", "E11.9", "I10", "D05.1", "F00.9"];
    static readonly string[] IcdQueryCodes = ["C50", "C50.4", "C50.41", "C50.-", "C61", "G35", "E11", "I10", "D05", "C5", "Z99.9"];
    static readonly string[] OpsCodes = ["5-870", "5-872.1", "8-522.x", "8-52", "8-53"];
    static readonly string[] OpsQueryCodes = ["5-87", "5-870", "5-872", "8-52", "8-522", "8-53", "9-99"];
    static readonly string[] AtcCodes = ["L04AA36", "L04AG08", "L01FD01", "L01XC03", "L02BA01", "L04AA23", "N07XX09"];
    static readonly string[] AtcQueryCodes = ["L04AA36", "L04AG08", "L01FD01", "L01XC03", "L02BA01", "L04AG03", "L04AX07", "L04AA"];
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
    static readonly DateOnly FirstDay = new(2021, 9, 1);
    public static readonly DateOnly[] Todays = [new(2025, 2, 28), new(2025, 3, 1), new(2024, 2, 29), new(2026, 6, 15)];

    public List<RefPatient> Patients { get; } = [];
    public List<RefFact> Facts { get; } = [];
    public List<RefAttribute> Attributes { get; } = [];

    public static RandomSite Fill(SiteFile site, int seed, int patients)
    {
        var random = new Random(seed);
        var data = new RandomSite();
        site.Batch(() =>
        {
            for (int i = 0; i < patients; i++) data.AddPatient(site, random);
        });
        site.Commit();
        return data;
    }

    void AddPatient(SiteFile site, Random random)
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

        int count = random.Next(0, 12);
        for (int i = 0; i < count; i++)
        {
            DateOnly? date = random.Next(10) == 0 ? null : FirstDay.AddDays(random.Next(61));
            switch (random.Next(8))
            {
                case 0 or 1:
                {
                    var id = AddFact(site, pid, Icd, Pick(random, IcdCodes), date, null, null, null, "Condition");
                    if (random.Next(2) == 0) AddAttribute(site, "Condition", id, "stage", Pick(random, Stages), null, null);
                    if (random.Next(3) == 0) AddAttribute(site, "Condition", id, "size", null, Pick(random, Sizes), random.Next(2) == 0 ? "mm" : "cm");
                    break;
                }
                case 2:
                    AddFact(site, pid, Ops, Pick(random, OpsCodes), date, null, null, null, "Procedure");
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
                    AddFact(site, pid, Atc, Pick(random, AtcCodes), date, null, null, null, "MedicationStatement");
                    break;
                default:
                    AddFact(site, pid, Local, "X1", date, null, null, null, "Observation");
                    break;
            }
        }
    }

    string AddFact(SiteFile site, long pid, string system, string code, DateOnly? date, double? value, string? unit, (string, string)? concept, string resourceType)
    {
        var id = site.Fact(pid, system, code, date, value, unit, concept, resourceType);
        Facts.Add(new RefFact(pid, system, code, date, value, unit, concept?.Item1, concept?.Item2, resourceType, id));
        return id;
    }

    void AddAttribute(SiteFile site, string resourceType, string id, string name, (string, string)? concept, double? value, string? unit)
    {
        site.Attribute(resourceType, id, name, concept, value, unit);
        Attributes.Add(new RefAttribute(resourceType, id, name, concept?.Item1, concept?.Item2, value, unit));
    }

    // --- queries ---------------------------------------------------------------------------------

    public static string Query(Random random)
    {
        var query = new JsonObject { ["version"] = "2" };
        if (random.Next(3) == 0) query["display"] = "random query";
        var inclusion = new JsonArray();
        int groups = random.Next(0, 4);
        for (int g = 0; g < groups; g++)
        {
            var group = new JsonArray();
            int size = random.Next(1, 4);
            for (int c = 0; c < size; c++) group.Add(Criterion(random));
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
                for (int c = 0; c < size; c++) group.Add(Criterion(random));
                exclusion.Add(group);
            }
            query["exclusionCriteria"] = exclusion;
        }
        return query.ToJsonString();
    }

    static JsonObject Criterion(Random random)
    {
        var criterion = new JsonObject();
        if (random.Next(2) == 0) criterion["context"] = new JsonObject { ["system"] = "fdpg.mii.cds", ["code"] = "Diagnose", ["display"] = "Diagnose", ["version"] = "1.0.0" };
        switch (random.Next(9))
        {
            case 0 or 1:
                criterion["termCodes"] = Codes(random, () => random.Next(2) == 0 ? Icd : IcdOld, IcdQueryCodes);
                MaybeTime(random, criterion);
                if (random.Next(4) == 0)
                    criterion["attributeFilters"] = new JsonArray(random.Next(2) == 0
                        ? Concept(random, Stages, new JsonObject { ["code"] = "stage", ["system"] = "mii.abide" })
                        : Quantity(random, Sizes, ["mm", "cm"], new JsonObject { ["code"] = "Size" }));
                break;
            case 2:
                criterion["termCodes"] = Codes(random, () => random.Next(2) == 0 ? Ops : OpsOld, OpsQueryCodes);
                MaybeTime(random, criterion);
                break;
            case 3:
                criterion["termCodes"] = new JsonArray(Coding(Loinc, "2857-1"));
                criterion["valueFilter"] = Quantity(random, PsaValues, PsaQueryUnits, null);
                MaybeTime(random, criterion);
                if (random.Next(4) == 0)
                    criterion["attributeFilters"] = new JsonArray(Concept(random, Methods, new JsonObject { ["code"] = "method" }));
                break;
            case 4:
                criterion["termCodes"] = new JsonArray(Coding(Loinc, "48676-1"));
                criterion["valueFilter"] = Concept(random, Her2Values, null);
                MaybeTime(random, criterion);
                break;
            case 5:
                criterion["termCodes"] = Codes(random, () => Pick(random, [Atc, "http://fhir.de/CodeSystem/dimdi/atc", "http://www.whocc.no/atc"]), AtcQueryCodes);
                MaybeTime(random, criterion);
                break;
            case 6:
            {
                var concepts = new JsonArray();
                int n = random.Next(1, 3);
                for (int i = 0; i < n; i++)
                    concepts.Add(new JsonObject { ["code"] = Pick(random, SexCodes), ["system"] = random.Next(2) == 0 ? "" : "https://fhir.loinc.org/CodeSystem/$lookup?system=http://loinc.org&code=LL2191-6" });
                criterion["termCodes"] = new JsonArray(Coding(Loinc, "LL2191-6"));
                criterion["valueFilter"] = new JsonObject { ["type"] = "concept", ["selectedConcepts"] = concepts };
                break;
            }
            case 7:
                criterion["termCodes"] = new JsonArray(random.Next(2) == 0 ? Coding(Loinc, "30525-0") : Coding(Snomed, "424144002"));
                criterion["valueFilter"] = Quantity(random, Ages, ["a", "year"], null);
                break;
            default:
                criterion["termCodes"] = random.Next(2) == 0 ? new JsonArray(Coding(Local, "X1")) : new JsonArray(Coding(Loinc, "718-7"));
                if (random.Next(2) == 0) criterion["valueFilter"] = Quantity(random, HbValues, ["g/dL", "g/dl", "mmol/L", "mmol/l"], null);
                MaybeTime(random, criterion);
                break;
        }
        return criterion;
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
