using System.Text.Json.Nodes;

namespace Midia.Node.Tests.Query;

/// <summary>
/// The brute-force reference: CCDL semantics (QUERY.md, DOMAIN.md, docs/QUERY-SEMANTICS.md) written
/// as plain loops over in-memory lists, straight from the query JSON. It shares no code with the
/// engine: its own alias table, hierarchy test, ATC pairs, sex codes, age arithmetic and unit rule.
/// </summary>
sealed class ReferenceEvaluator(IReadOnlyList<RefPatient> patients, IReadOnlyList<RefFact> facts, IReadOnlyList<RefAttribute> attributes)
{
    static readonly Dictionary<string, string> SystemAliases = new()
    {
        ["http://fhir.de/CodeSystem/dimdi/icd-10-gm"] = "http://fhir.de/CodeSystem/bfarm/icd-10-gm",
        ["http://fhir.de/CodeSystem/dimdi/ops"] = "http://fhir.de/CodeSystem/bfarm/ops",
        ["http://fhir.de/CodeSystem/dimdi/atc"] = "http://fhir.de/CodeSystem/bfarm/atc",
        ["http://www.whocc.no/atc"] = "http://fhir.de/CodeSystem/bfarm/atc",
    };

    static readonly string[][] AtcSameDrug =
    [
        ["L04AA36", "L04AG08"], ["L04AA23", "L04AG03"], ["L04AA34", "L04AG06"], ["L04AA27", "L04AE01"],
        ["L04AA42", "L04AE03"], ["L04AA31", "L04AK02"], ["N07XX09", "L04AX07"],
        ["L01XC03", "L01FD01"],
    ];

    // Grouped by patient and resource only so that 500 queries run in seconds; matching is plain loops.
    readonly Dictionary<long, RefPatient> patientsByPid = patients.ToDictionary(p => p.Pid);
    readonly Dictionary<long, List<RefFact>> factsByPatient = facts.GroupBy(f => f.Pid).ToDictionary(g => g.Key, g => g.ToList());
    readonly Dictionary<(string, string), List<RefAttribute>> attributesByResource =
        attributes.GroupBy(a => (a.ResourceType, a.ResourceId)).ToDictionary(g => g.Key, g => g.ToList());

    static string System(string uri) => SystemAliases.TryGetValue(uri.Trim(), out var same) ? same : uri.Trim();

    static bool Hierarchical(string system) =>
        system is "http://fhir.de/CodeSystem/bfarm/icd-10-gm" or "http://fhir.de/CodeSystem/bfarm/ops";

    public HashSet<long> Evaluate(string ccdl, DateOnly today)
    {
        var query = JsonNode.Parse(ccdl)!.AsObject();
        var result = patients.Select(p => p.Pid).ToHashSet();
        if (query["inclusionCriteria"] is JsonArray inclusion)
            foreach (var group in inclusion)
                result.RemoveWhere(pid => !group!.AsArray().Any(c => Matches(c!.AsObject(), pid, today)));
        if (query["exclusionCriteria"] is JsonArray exclusion)
            foreach (var group in exclusion)
                result.RemoveWhere(pid => group!.AsArray().All(c => Matches(c!.AsObject(), pid, today)));
        return result;
    }

    public bool Matches(JsonObject criterion, long pid, DateOnly today)
    {
        var patient = patientsByPid[pid];
        var code0 = criterion["termCodes"]![0]!;
        var system0 = System((string)code0["system"]!);
        var value0 = ((string)code0["code"]!).Trim();
        if (system0 == "http://loinc.org" && value0 == "LL2191-6")
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
        if ((system0 == "http://loinc.org" && value0 == "30525-0") || (system0 == "http://snomed.info/sct" && value0 == "424144002"))
        {
            if (patient.Birth is not { } birth) return false;
            int age = today.Year - birth.Year;
            if (today.Month < birth.Month || (today.Month == birth.Month && today.Day < birth.Day)) age--;
            return QuantityMatches(criterion["valueFilter"]!.AsObject(), age, "a", isAge: true);
        }

        return FactsOf(pid).Any(fact => FactMatches(criterion, fact));
    }

    /// <summary>Every fact of the patient matching the criterion, for the year stratifier.</summary>
    public IEnumerable<RefFact> FactsMatching(JsonObject criterion, long pid) => FactsOf(pid).Where(f => FactMatches(criterion, f));

    IEnumerable<RefFact> FactsOf(long pid) => factsByPatient.TryGetValue(pid, out var list) ? list : [];

    bool FactMatches(JsonObject criterion, RefFact fact)
    {
        if (!criterion["termCodes"]!.AsArray().Any(c => CodeMatches(c!.AsObject(), fact))) return false;
        if (criterion["valueFilter"] is JsonObject valueFilter && !ValueMatches(valueFilter, fact.ValueSystem, fact.ValueCode, fact.Value, fact.Unit)) return false;
        // An empty timeRestriction {} restricts nothing; a bound needs a dated fact.
        if (criterion["timeRestriction"] is JsonObject time && time.Count > 0)
        {
            if (fact.Date is not { } date) return false;
            if (time["afterDate"] is JsonNode after && date < DateOnly.Parse(((string)after!)[..10])) return false;
            if (time["beforeDate"] is JsonNode before && date > DateOnly.Parse(((string)before!)[..10])) return false;
        }
        return criterion["attributeFilters"] is not JsonArray filters || filters.All(f => AttributeMatches(f!.AsObject(), fact));
    }

    static bool CodeMatches(JsonObject termCode, RefFact fact)
    {
        var system = System((string)termCode["system"]!);
        var code = ((string)termCode["code"]!).Trim();
        if (fact.System != system) return false;
        if (Hierarchical(system))
        {
            if (code.EndsWith(".-")) code = code[..^2];
            return fact.Code.StartsWith(code, StringComparison.Ordinal);
        }
        if (fact.Code == code) return true;
        return system == "http://fhir.de/CodeSystem/bfarm/atc" && AtcSameDrug.Any(pair => pair.Contains(code) && pair.Contains(fact.Code));
    }

    bool AttributeMatches(JsonObject filter, RefFact fact)
    {
        var name = ((string)filter["attributeCode"]!["code"]!).Trim().ToLowerInvariant();
        return attributesByResource.TryGetValue((fact.ResourceType, fact.ResourceId), out var own)
            && own.Any(a => a.Name == name && ValueMatches(filter, a.System, a.Code, a.Value, a.Unit));
    }

    static bool ValueMatches(JsonObject filter, string? valueSystem, string? valueCode, double? value, string? unit)
    {
        if ((string)filter["type"]! == "concept")
            return valueCode is not null && filter["selectedConcepts"]!.AsArray()
                .Any(c => System((string)c!["system"]!) == valueSystem && ((string)c["code"]!).Trim() == valueCode);
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
}

sealed record RefPatient(long Pid, string Sex, DateOnly? Birth);

sealed record RefFact(long Pid, string System, string Code, DateOnly? Date, double? Value, string? Unit,
    string? ValueSystem, string? ValueCode, string ResourceType, string ResourceId);

sealed record RefAttribute(string ResourceType, string ResourceId, string Name, string? System, string? Code, double? Value, string? Unit);
