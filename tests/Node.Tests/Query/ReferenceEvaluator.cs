using System.Globalization;
using System.Text.RegularExpressions;
using System.Text.Json.Nodes;

namespace Midia.Node.Tests.Query;

/// <summary>
/// The brute-force reference: CCDL semantics (QUERY.md, DOMAIN.md, docs/QUERY-SEMANTICS.md) written
/// as plain loops over in-memory lists, straight from the query JSON. It shares no code with the
/// engine: its own alias table, hierarchy rules (ICD chapters and groups, OPS groups, ATC levels with
/// re-coded drugs, a SNOMED table), context table, consent mapping and MII consent rule, reference
/// links, CCDL v3 groups with relative time windows, sex codes, age arithmetic and unit rule.
/// </summary>
sealed class ReferenceEvaluator(IReadOnlyList<RefPatient> patients, IReadOnlyList<RefFact> facts, IReadOnlyList<RefAttribute> attributes,
    IReadOnlyList<RefLink>? links = null, IReadOnlyList<RefProvision>? provisions = null)
{
    public ReferenceEvaluator(RandomSite data) : this(data.Patients, data.Facts, data.Attributes, data.Links, data.Provisions) { }

    const string Icd = "http://fhir.de/CodeSystem/bfarm/icd-10-gm", IcdWho = "http://hl7.org/fhir/sid/icd-10",
        Ops = "http://fhir.de/CodeSystem/bfarm/ops", Atc = "http://fhir.de/CodeSystem/bfarm/atc", Snomed = "http://snomed.info/sct",
        Mii = "urn:oid:2.16.840.1.113883.3.1937.777.24.5.3", MiiRoot = "2.16.840.1.113883.3.1937.777.24.5.3";

    static readonly Dictionary<string, string> SystemAliases = new()
    {
        ["http://fhir.de/CodeSystem/dimdi/icd-10-gm"] = Icd,
        ["http://fhir.de/CodeSystem/dimdi/ops"] = Ops,
        ["http://fhir.de/CodeSystem/dimdi/atc"] = Atc,
        ["http://www.whocc.no/atc"] = Atc,
    };

    static readonly string[][] AtcSameDrug =
    [
        ["L04AA36", "L04AG08"], ["L04AA23", "L04AG03"], ["L04AA34", "L04AG06"], ["L04AA27", "L04AE01"],
        ["L04AA42", "L04AE03"], ["L04AA31", "L04AK02"], ["N07XX09", "L04AX07"],
        ["L01XC03", "L01FD01"],
    ];

    /// <summary>ICD-10 chapters by Roman numeral, as ranges of three-character categories.</summary>
    static readonly (string Roman, string Low, string High)[] IcdChapters =
    [
        ("I", "A00", "B99"), ("II", "C00", "D48"), ("III", "D50", "D90"), ("IV", "E00", "E90"), ("V", "F00", "F99"), ("VI", "G00", "G99"),
        ("VII", "H00", "H59"), ("VIII", "H60", "H95"), ("IX", "I00", "I99"), ("X", "J00", "J99"), ("XI", "K00", "K93"), ("XII", "L00", "L99"),
        ("XIII", "M00", "M99"), ("XIV", "N00", "N99"), ("XV", "O00", "O99"), ("XVI", "P00", "P96"), ("XVII", "Q00", "Q99"), ("XVIII", "R00", "R99"),
        ("XIX", "S00", "T98"), ("XX", "V01", "Y84"), ("XXI", "Z00", "Z99"), ("XXII", "U00", "U99"),
    ];

    /// <summary>SNOMED CT: concept → every concept below it, as far as the data here needs.</summary>
    static readonly Dictionary<string, string[]> SnomedBelow = new()
    {
        ["24700007"] = ["426373005", "425500002", "428700003"],
        ["76752008"] = ["80248007", "73056007"],
        ["119297000"] = ["119364003", "119361006"],
        ["123038009"] = ["119297000", "119364003", "119361006", "119376003", "122575003"],
    };

    /// <summary>fdpg.mii.cds contexts → the resource kinds (node FactKind numbers) they read.</summary>
    static readonly Dictionary<string, int[]> ContextKinds = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Diagnose"] = [1], ["Todesursache"] = [6], ["Laboruntersuchung"] = [2], ["Prozedur"] = [4], ["Procedure"] = [4],
        ["Medikamentenverabreichung"] = [3], ["Medikamentenverordnung"] = [10], ["Medikation"] = [3, 10],
        ["Bioprobe"] = [8], ["Specimen"] = [8], ["Fall"] = [7], ["Bildgebung"] = [5], ["Befundbericht"] = [9],
    };

    // Grouped by patient and resource only so that 500 queries run in seconds; matching is plain loops.
    readonly Dictionary<long, RefPatient> patientsByPid = patients.ToDictionary(p => p.Pid);
    readonly Dictionary<long, List<RefFact>> factsByPatient = facts.GroupBy(f => f.Pid).ToDictionary(g => g.Key, g => g.ToList());
    readonly Dictionary<(string, string), List<RefFact>> factsByResource = facts.GroupBy(f => (f.ResourceType, f.ResourceId)).ToDictionary(g => g.Key, g => g.ToList());
    readonly Dictionary<(string, string), List<RefAttribute>> attributesByResource =
        attributes.GroupBy(a => (a.ResourceType, a.ResourceId)).ToDictionary(g => g.Key, g => g.ToList());
    readonly Dictionary<(string, string), List<RefLink>> linksByResource =
        (links ?? []).GroupBy(l => (l.ResourceType, l.ResourceId)).ToDictionary(g => g.Key, g => g.ToList());
    readonly Dictionary<long, List<RefProvision>> provisionsByPatient = (provisions ?? []).GroupBy(p => p.Pid).ToDictionary(g => g.Key, g => g.ToList());

    static string System(string uri) => SystemAliases.TryGetValue(uri.Trim(), out var same) ? same : uri.Trim();

    public HashSet<long> Evaluate(string ccdl, DateOnly today)
    {
        var query = JsonNode.Parse(ccdl)!.AsObject();
        if ((string)query["version"]! == "3" && IsGrouped(query)) return EvaluateGrouped(query, today);
        var result = patients.Select(p => p.Pid).ToHashSet();
        if (query["inclusionCriteria"] is JsonArray inclusion)
            foreach (var group in inclusion)
                result.RemoveWhere(pid => !group!.AsArray().Any(c => Matches(c!.AsObject(), pid, today)));
        if (query["exclusionCriteria"] is JsonArray exclusion)
            foreach (var group in exclusion)
                result.RemoveWhere(pid => group!.AsArray().All(c => Matches(c!.AsObject(), pid, today)));
        return result;
    }

    static bool IsGrouped(JsonObject query) =>
        new[] { "inclusionCriteria", "exclusionCriteria" }.Any(name => query[name] is JsonArray arrays
            && arrays.Any(a => a is JsonArray array && array.Any(g => g is JsonObject o && o.ContainsKey("criteria"))));

    public bool Matches(JsonObject criterion, long pid, DateOnly today)
    {
        bool negated = criterion["negated"] is JsonNode n && (bool)n!;
        return Positive(criterion, pid, today) != negated;
    }

    bool Positive(JsonObject criterion, long pid, DateOnly today)
    {
        var patient = patientsByPid[pid];
        var code0 = criterion["termCodes"]![0]!;
        var system0 = System((string)code0["system"]!);
        var value0 = ((string)code0["code"]!).Trim();
        if ((system0 == "http://loinc.org" && value0 == "LL2191-6") || (system0 == Snomed && value0 == "263495000"))
        {
            foreach (var concept in criterion["valueFilter"]!["selectedConcepts"]!.AsArray())
            {
                var wanted = ((string)concept!["code"]!).Trim().ToLowerInvariant() switch
                {
                    "f" or "female" => "female",
                    "m" or "male" => "male",
                    "o" or "other" or "d" or "x" or "diverse" => "other",
                    "u" or "unknown" => "unknown",
                    var other => "?" + other,
                };
                if (patient.Sex == wanted) return true;
            }
            return false;
        }
        if ((system0 == "http://loinc.org" && value0 == "30525-0") || (system0 == Snomed && value0 == "424144002"))
        {
            if (patient.Birth is not { } birth) return false;
            int age = today.Year - birth.Year;
            if (today.Month < birth.Month || (today.Month == birth.Month && today.Day < birth.Day)) age--;
            return QuantityMatches(criterion["valueFilter"]!.AsObject(), age, "a", isAge: true);
        }
        if (system0 is "fdpg.consent.combined" || system0 == Mii)
            return criterion["termCodes"]!.AsArray().Any(c => ConsentPolicies(c!.AsObject()).All(policy => Permitted(pid, policy, today)));

        return FactsOf(pid).Any(fact => FactMatches(criterion, fact));
    }

    /// <summary>The MII policies a consent term code requires (FDPG combined consent: four yes/no answers).</summary>
    static IEnumerable<string> ConsentPolicies(JsonObject termCode)
    {
        var code = ((string)termCode["code"]!).Trim();
        if (System((string)termCode["system"]!) == Mii) return [code.StartsWith(MiiRoot + ".") ? code : $"{MiiRoot}.{code.TrimStart('.')}"];
        var answer = code.ToLowerInvariant().Split('-');
        var policies = new List<string>();
        if (answer[0] == "no") policies.Add(MiiRoot + ".9");
        policies.Add(answer[1] == "yes" ? MiiRoot + ".8" : MiiRoot + ".49");
        if (answer[2] == "yes") policies.Add(MiiRoot + ".10");
        if (answer[3] == "yes") policies.AddRange(new[] { 37, 26, 27, 28, 29, 30, 31 }.Select(n => $"{MiiRoot}.{n}"));
        return policies;
    }

    /// <summary>MII rule: some permit covers the day and no deny does.</summary>
    bool Permitted(long pid, string policy, DateOnly day)
    {
        if (!provisionsByPatient.TryGetValue(pid, out var own)) return false;
        bool Covers(RefProvision p) => p.Policy == policy && (p.Start is null || p.Start <= day) && (p.End is null || p.End >= day);
        return own.Any(p => p.Permit && Covers(p)) && !own.Any(p => !p.Permit && Covers(p));
    }

    /// <summary>Every fact of the patient matching the criterion, for the year stratifier.</summary>
    public IEnumerable<RefFact> FactsMatching(JsonObject criterion, long pid) => FactsOf(pid).Where(f => FactMatches(criterion, f));

    IEnumerable<RefFact> FactsOf(long pid) => factsByPatient.TryGetValue(pid, out var list) ? list : [];

    bool FactMatches(JsonObject criterion, RefFact fact)
    {
        if (criterion["context"] is JsonObject context && ContextKinds.TryGetValue(((string)context["code"]!).Trim(), out var kinds) && !kinds.Contains(fact.Kind))
            return false;
        if (!criterion["termCodes"]!.AsArray().Any(c => CodeMatches((string)c!["system"]!, (string)c["code"]!, fact.System, fact.Code))) return false;
        if (criterion["valueFilter"] is JsonObject valueFilter && !ValueMatches(valueFilter, fact.ValueSystem, fact.ValueCode, fact.Value, fact.Unit)) return false;
        // An empty timeRestriction {} restricts nothing; a bound needs a dated fact.
        if (criterion["timeRestriction"] is JsonObject time && time.Count > 0)
        {
            if (fact.Date is not { } date) return false;
            if (time["afterDate"] is JsonNode after && date < DateOnly.Parse(((string)after!)[..10])) return false;
            if (time["beforeDate"] is JsonNode before && date > DateOnly.Parse(((string)before!)[..10])) return false;
        }
        return criterion["attributeFilters"] is not JsonArray filters || filters.All(f => (string)f!["type"]! == "reference"
            ? ReferenceMatches(f.AsObject(), fact)
            : AttributeMatches(f.AsObject(), fact));
    }

    /// <summary>Does a query code (of a system) include a stored code (of a system)? The hierarchy rules, written out.</summary>
    static bool CodeMatches(string querySystem, string queryCode, string factSystem, string? factCode)
    {
        var system = System(querySystem);
        var code = queryCode.Trim();
        if (factCode is null || System(factSystem) != system) return false;
        switch (system)
        {
            case Icd or IcdWho:
            {
                if (code.EndsWith(".-")) code = code[..^2];
                var chapter = IcdChapters.FirstOrDefault(c => c.Roman == code);
                if (chapter.Roman is null && int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && code.Length <= 2 && number is >= 1 and <= 22)
                    chapter = IcdChapters[number - 1];
                if (chapter.Roman is not null) return InCategoryRange(factCode, chapter.Low, chapter.High);
                var group = Regex.Match(code, "^([A-Z][0-9][0-9])-([A-Z][0-9][0-9])$");
                if (group.Success) return InCategoryRange(factCode, group.Groups[1].Value, group.Groups[2].Value);
                return factCode.StartsWith(code, StringComparison.Ordinal);
            }
            case Ops:
            {
                if (code.Length == 1 && "135689".Contains(code)) return factCode.StartsWith(code + "-", StringComparison.Ordinal);
                var group = Regex.Match(code, @"^(.+)\.\.\.(.+)$");
                if (group.Success && group.Groups[1].Length == group.Groups[2].Length)
                    return InCategoryRange(factCode, group.Groups[1].Value, group.Groups[2].Value);
                return factCode.StartsWith(code, StringComparison.Ordinal);
            }
            case Atc:
            {
                if (factCode.StartsWith(code, StringComparison.Ordinal)) return true;
                var pair = AtcSameDrug.FirstOrDefault(p => p.Contains(factCode));
                return pair is not null && pair.Any(other => other != factCode && other.StartsWith(code, StringComparison.Ordinal));
            }
            case Snomed:
                return factCode == code || (SnomedBelow.TryGetValue(code, out var below) && below.Contains(factCode));
            default:
                return factCode == code;
        }
    }

    /// <summary>The stored code's first characters (as many as the bounds have) lie between the bounds.</summary>
    static bool InCategoryRange(string factCode, string low, string high) =>
        factCode.Length >= low.Length
        && string.CompareOrdinal(factCode[..low.Length], low) >= 0 && string.CompareOrdinal(factCode[..low.Length], high) <= 0;

    bool AttributeMatches(JsonObject filter, RefFact fact)
    {
        var name = ((string)filter["attributeCode"]!["code"]!).Trim().ToLowerInvariant();
        return attributesByResource.TryGetValue((fact.ResourceType, fact.ResourceId), out var own)
            && own.Any(a => a.Name == name && ValueMatches(filter, a.System, a.Code, a.Value, a.Unit));
    }

    /// <summary>The fact's resource links, by that name, to a resource of the same patient with a fact meeting any nested criterion.</summary>
    bool ReferenceMatches(JsonObject filter, RefFact fact)
    {
        var name = ((string)filter["attributeCode"]!["code"]!).Trim().ToLowerInvariant();
        if (name == "diagnose") name = "festgestelltediagnose";
        if (!linksByResource.TryGetValue((fact.ResourceType, fact.ResourceId), out var own)) return false;
        foreach (var link in own.Where(l => l.Name == name))
            if (factsByResource.TryGetValue((link.TargetType, link.TargetId), out var targets)
                && targets.Any(t => t.Pid == fact.Pid && filter["criteria"]!.AsArray().Any(c => FactMatches(c!.AsObject(), t))))
                return true;
        return false;
    }

    bool ValueMatches(JsonObject filter, string? valueSystem, string? valueCode, double? value, string? unit)
    {
        if ((string)filter["type"]! == "concept")
            return valueCode is not null && valueSystem is not null && filter["selectedConcepts"]!.AsArray()
                .Any(c => CodeMatches((string)c!["system"]!, (string)c["code"]!, valueSystem, valueCode));
        if (value is not { } v) return false;
        return QuantityMatches(filter, v, unit, isAge: false);
    }

    static bool QuantityMatches(JsonObject filter, double v, string? unit, bool isAge)
    {
        var wantedUnit = filter["unit"]?["code"] is JsonNode u ? ((string)u!).Trim() : null;
        if (!isAge && !SameUnit(wantedUnit, unit)) return false;
        if ((string)filter["type"]! == "quantity-range")
            return v >= (double)filter["minValue"]! && v <= (double)filter["maxValue"]!;
        var x = (double)filter["value"]!;
        return (string)filter["comparator"]! switch
        {
            "eq" => v == x, "ne" => v != x, "lt" => v < x, "le" => v <= x, "gt" => v > x, "ge" => v >= x,
            var c => throw new InvalidOperationException(c),
        };
    }

    /// <summary>The units the generator uses differ only in the litre letter's case when equal.</summary>
    static bool SameUnit(string? wanted, string? actual)
    {
        if (string.IsNullOrEmpty(wanted)) return string.IsNullOrEmpty(actual);
        if (actual is null || actual.Length != wanted.Length) return false;
        for (int i = 0; i < wanted.Length; i++)
            if (wanted[i] != actual[i] && !(char.ToLowerInvariant(wanted[i]) == 'l' && char.ToLowerInvariant(actual[i]) == 'l')) return false;
        return true;
    }

    // --- CCDL v3 groups: written per patient, as the draft states it -------------------------------

    HashSet<long> EvaluateGrouped(JsonObject query, DateOnly today)
    {
        var groups = new Dictionary<string, JsonObject>();
        foreach (var name in new[] { "inclusionCriteria", "exclusionCriteria" })
            if (query[name] is JsonArray arrays)
                foreach (var array in arrays)
                    foreach (var group in array!.AsArray())
                        if (group!["id"] is JsonNode id) groups[(string)id!] = group.AsObject();
        var result = new HashSet<long>();
        foreach (var patient in patients)
        {
            var context = new PatientGroups(this, patient.Pid, today, groups);
            bool included = query["inclusionCriteria"] is not JsonArray { Count: > 0 } inclusion
                || inclusion.Any(array => array!.AsArray().All(g => context.Holds(g!.AsObject(), exclusion: false)));
            bool excluded = query["exclusionCriteria"] is JsonArray exclusion
                && exclusion.Any(array => array!.AsArray().All(g => context.Holds(g!.AsObject(), exclusion: true)));
            if (included && !excluded) result.Add(patient.Pid);
        }
        return result;
    }

    /// <summary>One patient's view of the groups: truth, window and anchor witness of each.</summary>
    sealed class PatientGroups(ReferenceEvaluator reference, long pid, DateOnly today, Dictionary<string, JsonObject> byId)
    {
        static bool IsNow(JsonObject group) => group["criteria"]![0]![0]!["type"] is JsonNode t && (string)t! == "now";

        public bool Holds(JsonObject group, bool exclusion)
        {
            if (IsNow(group)) return true;
            (DateOnly Low, DateOnly High)? window = null;
            if (group["relativeTimeRestrictions"] is JsonArray)
            {
                window = Window(group);
                if (window is null) return false;
            }
            bool Leaf(JsonObject c) => window is { } w
                ? reference.FactsOf(pid).Any(f => reference.FactMatches(c, f) && f.Date is { } d && d >= w.Low && d <= w.High)
                : reference.Matches(c, pid, today);
            var clauses = group["criteria"]!.AsArray().Select(clause => clause!.AsArray().Select(c => c!.AsObject()).ToList()).ToList();
            return exclusion ? clauses.Any(clause => clause.All(Leaf)) : clauses.All(clause => clause.Any(Leaf));
        }

        /// <summary>The intersection of every entry's window, or null when an anchor has no witness or the windows do not meet.</summary>
        (DateOnly Low, DateOnly High)? Window(JsonObject group)
        {
            DateOnly low = DateOnly.MinValue, high = DateOnly.MaxValue;
            foreach (var entry in group["relativeTimeRestrictions"]!.AsArray())
            {
                var anchor = byId[(string)entry!["anchorRef"]!];
                if (Witness(anchor) is not { } witness) return null;
                if (entry["minOffset"] is JsonNode min) low = Max(low, Shift(witness.Latest, (string)min!));
                if (entry["maxOffset"] is JsonNode max) high = Min(high, Shift(witness.Earliest, (string)max!));
            }
            return low <= high ? (low, high) : null;
        }

        /// <summary>An anchor's witness: per AND-clause its first (or last) qualifying date, then their earliest and latest.</summary>
        (DateOnly Earliest, DateOnly Latest)? Witness(JsonObject anchor)
        {
            if (IsNow(anchor)) return (today, today);
            (DateOnly Low, DateOnly High)? window = null;
            if (anchor["relativeTimeRestrictions"] is JsonArray)
            {
                window = Window(anchor);
                if (window is null) return null;
            }
            bool last = anchor["anchorOccurrence"] is JsonNode o && (string)o! == "last";
            bool end = anchor["anchorPoint"] is JsonNode p && (string)p! == "end";
            var clauses = anchor["criteria"]!.AsArray().Select(clause => clause!.AsArray().Select(c => c!.AsObject()).ToList()).ToList();
            // Clauses are AND-ed, each an OR of criteria (the generator puts anchors on the exclusion side only as one criterion).
            var picks = new List<DateOnly>();
            foreach (var clause in clauses)
            {
                var dates = reference.FactsOf(pid)
                    .Where(f => f.Date is { } d && clause.Any(c => reference.FactMatches(c, f)) && (window is not { } w || (d >= w.Low && d <= w.High)))
                    .Select(f => end ? f.End ?? f.Date!.Value : f.Date!.Value).ToList();
                if (dates.Count == 0) return null;
                picks.Add(last ? dates.Max() : dates.Min());
            }
            return (picks.Min(), picks.Max());
        }

        static DateOnly Max(DateOnly a, DateOnly b) => a > b ? a : b;
        static DateOnly Min(DateOnly a, DateOnly b) => a < b ? a : b;

        /// <summary>A signed ISO 8601 duration in Y, M, W, D (and whole days of hours).</summary>
        static DateOnly Shift(DateOnly date, string offset)
        {
            var m = Regex.Match(offset, @"^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?)?$");
            int Part(int i) => m.Groups[i].Success ? int.Parse(m.Groups[i].Value, CultureInfo.InvariantCulture) : 0;
            var sign = m.Groups[1].Success ? -1 : 1;
            return date.AddYears(sign * Part(2)).AddMonths(sign * Part(3)).AddDays(sign * (Part(4) * 7 + Part(5) + Part(6) / 24));
        }
    }
}

sealed record RefPatient(long Pid, string Sex, DateOnly? Birth);

/// <summary>A fact as the database holds it; Kind is the node's FactKind number (1 condition, 2 observation, ...).</summary>
sealed record RefFact(long Pid, string System, string Code, DateOnly? Date, double? Value, string? Unit,
    string? ValueSystem, string? ValueCode, string ResourceType, string ResourceId, int Kind = 2, DateOnly? End = null);

sealed record RefAttribute(string ResourceType, string ResourceId, string Name, string? System, string? Code, double? Value, string? Unit);

sealed record RefLink(string ResourceType, string ResourceId, string Name, string TargetType, string TargetId);

sealed record RefProvision(long Pid, string Policy, bool Permit, DateOnly? Start, DateOnly? End);
