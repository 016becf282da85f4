using System.Globalization;
using System.Text.Json;
using Midia.Node.Store;

namespace Midia.Node.Query;

/// <summary>
/// The strict CCDL reader: walks the JSON by hand so every refusal carries the JSON path of what to
/// change. Unknown codes pass (they simply match nothing); unknown fields, wrong types and
/// constructs the engine cannot evaluate exactly do not.
/// </summary>
static class CcdlReader
{
    static readonly string[] Versions =
        ["2", "http://to_be_decided.com/draft-1/schema#", "http://to_be_decided.com/draft-2/schema#"];

    static readonly string[] CodingFields = ["system", "code", "display", "version"];
    static readonly string[] UnitFields = ["code", "display", "system", "version"];

    public static CohortQuery Read(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new CcdlException("$", $"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message.Split(" LineNumber")[0]}");
        }
        catch (ArgumentException)
        {
            // A lone UTF-16 surrogate (the text was not Unicode) cannot become the UTF-8 the parser reads.
            var at = LoneSurrogate(json);
            throw new CcdlException("$", $"not valid text: a lone UTF-16 surrogate at character {at + 1}; send the query as valid UTF-8");
        }
        using (document)
        {
            try
            {
                return Walk(document.RootElement);
            }
            catch (InvalidOperationException e) when (FromJson(e))
            {
                // Field-name lookups unescape names; the places that read text name their path themselves.
                throw new CcdlException("$", "a field name holds an escaped lone UTF-16 surrogate (\\ud800-\\udfff); that is not text");
            }
        }
    }

    static CohortQuery Walk(JsonElement rootElement)
    {
        var root = Fields(rootElement, "$", "version", "display", "inclusionCriteria", "exclusionCriteria");
        var version = String(root, "version", "$", required: true)!;
        if (!Versions.Contains(version))
            throw new CcdlException("version", $"unsupported CCDL version '{version}'; use \"2\"");
        var display = String(root, "display", "$", required: false);

        var inclusionWritten = Groups(root, "inclusionCriteria");
        var exclusionWritten = Groups(root, "exclusionCriteria");
        var inclusion = Canonical(inclusionWritten);
        var exclusion = Canonical(exclusionWritten);
        var first = inclusionWritten.Count > 0 ? CanonicalGroup(inclusionWritten[0]) : null;
        return new CohortQuery(display, inclusion, exclusion, first);
    }

    static List<List<Criterion>> Groups(Dictionary<string, JsonElement> root, string name)
    {
        var groups = new List<List<Criterion>>();
        if (!root.TryGetValue(name, out var element)) return groups;
        Expect(element, JsonValueKind.Array, name);
        int g = 0;
        foreach (var groupElement in element.EnumerateArray())
        {
            var groupPath = $"{name}[{g}]";
            Expect(groupElement, JsonValueKind.Array, groupPath);
            if (groupElement.GetArrayLength() == 0)
                throw new CcdlException(groupPath, "an empty group is ambiguous (an empty OR matches nobody, an empty AND everybody); remove it");
            var group = new List<Criterion>();
            int c = 0;
            foreach (var criterion in groupElement.EnumerateArray())
                group.Add(ReadCriterion(criterion, $"{groupPath}[{c++}]"));
            groups.Add(group);
            g++;
        }
        return groups;
    }

    static Criterion ReadCriterion(JsonElement element, string path)
    {
        var fields = Fields(element, path, "context", "termCodes", "valueFilter", "attributeFilters", "timeRestriction");
        if (fields.TryGetValue("context", out var context))
        {
            // Informative only (QUERY.md): the term code decides. Checked for shape, then dropped.
            var contextFields = Fields(context, $"{path}.context", CodingFields);
            foreach (var name in CodingFields) String(contextFields, name, $"{path}.context", required: false);
        }

        if (!fields.TryGetValue("termCodes", out var termCodesElement))
            throw new CcdlException(path, "missing field 'termCodes': a criterion needs at least one term code");
        Expect(termCodesElement, JsonValueKind.Array, $"{path}.termCodes");
        if (termCodesElement.GetArrayLength() == 0)
            throw new CcdlException($"{path}.termCodes", "empty: give at least one term code");
        var termCodes = new List<TermCode>();
        int t = 0;
        foreach (var codeElement in termCodesElement.EnumerateArray())
            termCodes.Add(ReadTermCode(codeElement, $"{path}.termCodes[{t++}]"));

        var kind = KindOf(termCodes, path);

        ValueFilter? value = fields.TryGetValue("valueFilter", out var valueElement)
            ? ReadValueFilter(valueElement, $"{path}.valueFilter", kind, attribute: false)
            : null;

        var attributes = new List<AttributeFilter>();
        if (fields.TryGetValue("attributeFilters", out var attributesElement))
        {
            Expect(attributesElement, JsonValueKind.Array, $"{path}.attributeFilters");
            int a = 0;
            foreach (var attribute in attributesElement.EnumerateArray())
            {
                var attributePath = $"{path}.attributeFilters[{a++}]";
                if (kind != CriterionKind.Facts)
                    throw new CcdlException(attributePath, $"a {Word(kind)} criterion has no attributes; remove the attribute filter");
                attributes.Add(ReadAttributeFilter(attribute, attributePath));
            }
        }

        TimeRestriction? time = null;
        if (fields.TryGetValue("timeRestriction", out var timeElement))
        {
            if (kind != CriterionKind.Facts)
                throw new CcdlException($"{path}.timeRestriction", kind == CriterionKind.Age
                    ? "a time restriction on age (age at some date) is not supported; age is completed years today — remove the time restriction"
                    : "sex has no date; remove the time restriction");
            time = ReadTime(timeElement, $"{path}.timeRestriction");
        }

        switch (kind)
        {
            case CriterionKind.Sex when value is not ConceptFilter:
                throw new CcdlException(value is null ? path : $"{path}.valueFilter",
                    "a sex criterion (LOINC LL2191-6) needs a valueFilter of type concept with the sexes (female, male, other, unknown)");
            case CriterionKind.Age when value is not (ComparatorFilter or RangeFilter):
                throw new CcdlException(value is null ? path : $"{path}.valueFilter",
                    "an age criterion needs a valueFilter of type quantity-comparator or quantity-range in years (unit a)");
        }

        return new Criterion(kind, Canonical(termCodes, kind), value, Sorted(attributes), time, path);
    }

    static CriterionKind KindOf(List<TermCode> termCodes, string path)
    {
        var kinds = termCodes.Select(c => PatientCodes.IsSex(c) ? CriterionKind.Sex : PatientCodes.IsAge(c) ? CriterionKind.Age : CriterionKind.Facts).ToList();
        for (int i = 1; i < kinds.Count; i++)
            if (kinds[i] != kinds[0])
                throw new CcdlException($"{path}.termCodes[{i}]",
                    "sex, age and other codes cannot share one criterion (their value filters mean different things); put them in separate criteria of the same group");
        return kinds[0];
    }

    static string Word(CriterionKind kind) => kind == CriterionKind.Sex ? "sex" : "age";

    static TermCode ReadTermCode(JsonElement element, string path)
    {
        var fields = Fields(element, path, CodingFields);
        var system = String(fields, "system", path, required: true)!.Trim();
        var code = String(fields, "code", path, required: true)!.Trim();
        String(fields, "display", path, required: false);
        String(fields, "version", path, required: false);
        if (system.Length == 0) throw new CcdlException($"{path}.system", "empty: give the code system URI");
        if (code.Length == 0) throw new CcdlException($"{path}.code", "empty: give the code");
        return new TermCode(CodeSystems.Canonical(system), code);
    }

    static AttributeFilter ReadAttributeFilter(JsonElement element, string path)
    {
        Expect(element, JsonValueKind.Object, path);
        if (element.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && Text(type, $"{path}.type") == "reference")
            throw new CcdlException(path,
                "attribute filters of type reference (criteria on a linked resource) cannot be evaluated by this node; remove the filter or ask for the linked criteria as a separate criterion");
        var codeElement = element.TryGetProperty("attributeCode", out var c) ? c : default;
        if (codeElement.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
            throw new CcdlException(path, "missing field 'attributeCode': name the attribute to filter on");
        var codeFields = Fields(codeElement, $"{path}.attributeCode", CodingFields);
        var name = String(codeFields, "code", $"{path}.attributeCode", required: true)!.Trim().ToLowerInvariant();
        foreach (var field in new[] { "system", "display", "version" }) String(codeFields, field, $"{path}.attributeCode", required: false);
        if (name.Length == 0) throw new CcdlException($"{path}.attributeCode.code", "empty: name the attribute");
        var filter = ReadValueFilter(element, path, CriterionKind.Facts, attribute: true);
        return new AttributeFilter(name, filter, path);
    }

    static ValueFilter ReadValueFilter(JsonElement element, string path, CriterionKind kind, bool attribute)
    {
        Expect(element, JsonValueKind.Object, path);
        var type = element.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? Text(t, $"{path}.type") : null;
        string[] extra = attribute ? ["attributeCode"] : [];
        switch (type)
        {
            case "concept":
            {
                if (kind == CriterionKind.Age)
                    throw new CcdlException($"{path}.type", "age is a quantity: use quantity-comparator or quantity-range in years (unit a)");
                var fields = Fields(element, path, ["type", "selectedConcepts", .. extra]);
                if (!fields.TryGetValue("selectedConcepts", out var list))
                    throw new CcdlException(path, "missing field 'selectedConcepts'");
                Expect(list, JsonValueKind.Array, $"{path}.selectedConcepts");
                if (list.GetArrayLength() == 0)
                    throw new CcdlException($"{path}.selectedConcepts", "empty: select at least one concept");
                var concepts = new List<TermCode>();
                int i = 0;
                foreach (var conceptElement in list.EnumerateArray())
                {
                    var conceptPath = $"{path}.selectedConcepts[{i++}]";
                    var conceptFields = Fields(conceptElement, conceptPath, CodingFields);
                    var code = String(conceptFields, "code", conceptPath, required: true)!.Trim();
                    var system = String(conceptFields, "system", conceptPath, required: kind != CriterionKind.Sex)?.Trim() ?? "";
                    String(conceptFields, "display", conceptPath, required: false);
                    String(conceptFields, "version", conceptPath, required: false);
                    if (code.Length == 0) throw new CcdlException($"{conceptPath}.code", "empty: give the code");
                    if (kind == CriterionKind.Sex)
                    {
                        // Sex concepts come with odd systems ($lookup URLs, ""): the code alone decides.
                        concepts.Add(new TermCode("", PatientCodes.Gender(code) ?? code));
                        continue;
                    }
                    if (system.Length == 0)
                        throw new CcdlException($"{conceptPath}.system", "empty: give the code system of the concept (a code alone is ambiguous)");
                    concepts.Add(new TermCode(CodeSystems.Canonical(system), code));
                }
                return new ConceptFilter(concepts.Distinct().OrderBy(c => c.System, StringComparer.Ordinal).ThenBy(c => c.Code, StringComparer.Ordinal).ToList());
            }
            case "quantity-comparator":
            {
                NotSex(kind, path);
                var fields = Fields(element, path, ["type", "comparator", "value", "unit", .. extra]);
                var comparatorText = String(fields, "comparator", path, required: true)!;
                Comparator comparator = comparatorText switch
                {
                    "eq" => Comparator.Eq, "ne" => Comparator.Ne, "lt" => Comparator.Lt,
                    "le" => Comparator.Le, "gt" => Comparator.Gt, "ge" => Comparator.Ge,
                    _ => throw new CcdlException($"{path}.comparator", $"unknown comparator '{comparatorText}'; use one of eq, ne, lt, le, gt, ge"),
                };
                var value = Number(fields, "value", path, kind);
                return new ComparatorFilter(comparator, value, Unit(fields, path, kind));
            }
            case "quantity-range":
            {
                NotSex(kind, path);
                var fields = Fields(element, path, ["type", "minValue", "maxValue", "unit", .. extra]);
                var min = Number(fields, "minValue", path, kind);
                var max = Number(fields, "maxValue", path, kind);
                if (min > max) throw new CcdlException($"{path}.minValue", $"minValue {Format(min)} is greater than maxValue {Format(max)}; swap them");
                return new RangeFilter(min, max, Unit(fields, path, kind));
            }
            case null when !element.TryGetProperty("type", out _):
                throw new CcdlException(path, "missing field 'type': use concept, quantity-comparator or quantity-range");
            case null:
                throw new CcdlException($"{path}.type", "must be a string: concept, quantity-comparator or quantity-range");
            default:
                throw new CcdlException($"{path}.type", $"unknown filter type '{type}'; use concept, quantity-comparator or quantity-range");
        }
    }

    static void NotSex(CriterionKind kind, string path)
    {
        if (kind == CriterionKind.Sex)
            throw new CcdlException($"{path}.type", "sex is a concept: use a valueFilter of type concept");
    }

    static double Number(Dictionary<string, JsonElement> fields, string name, string path, CriterionKind kind)
    {
        if (!fields.TryGetValue(name, out var element)) throw new CcdlException(path, $"missing field '{name}'");
        Expect(element, JsonValueKind.Number, $"{path}.{name}");
        var value = element.GetDouble();
        if (!double.IsFinite(value)) throw new CcdlException($"{path}.{name}", "must be a finite number");
        if (kind == CriterionKind.Age && (value != Math.Floor(value) || Math.Abs(value) > 10_000))
            throw new CcdlException($"{path}.{name}", $"age is counted in completed years: give a whole number of years, not {Format(value)}");
        return value == 0 ? 0 : value; // -0 and 0 are one value
    }

    static string? Unit(Dictionary<string, JsonElement> fields, string path, CriterionKind kind)
    {
        string? unit = null;
        if (fields.TryGetValue("unit", out var element))
        {
            var unitFields = Fields(element, $"{path}.unit", UnitFields);
            unit = String(unitFields, "code", $"{path}.unit", required: true)!.Trim();
            foreach (var field in new[] { "display", "system", "version" }) String(unitFields, field, $"{path}.unit", required: false);
            if (unit.Length == 0) unit = null;
        }
        if (kind != CriterionKind.Age) return unit is null ? null : Units.Canonical(unit);
        if (unit is null || !PatientCodes.IsYears(unit))
            throw new CcdlException(unit is null ? path : $"{path}.unit.code",
                $"age is evaluated in completed years: use unit a (or year){(unit is null ? "" : $", not '{unit}'")}");
        return "a";
    }

    static TimeRestriction ReadTime(JsonElement element, string path)
    {
        var fields = Fields(element, path, "afterDate", "beforeDate");
        var after = Date(fields, "afterDate", path);
        var before = Date(fields, "beforeDate", path);
        if (after is { } a && before is { } b && a > b)
            throw new CcdlException($"{path}.afterDate", $"afterDate {Days.ToDate(a):yyyy-MM-dd} is after beforeDate {Days.ToDate(b):yyyy-MM-dd}; swap them");
        return new TimeRestriction(after, before);
    }

    /// <summary>yyyy-MM-dd, or a date-time of which the calendar date as written counts: facts are
    /// dated to the day, and both bounds are inclusive.</summary>
    static int? Date(Dictionary<string, JsonElement> fields, string name, string path)
    {
        var text = String(fields, name, path, required: false)?.Trim();
        if (text is null) return null;
        var datePart = text.Length > 10 && text[10] == 'T' ? text[..10] : text;
        if (!DateOnly.TryParseExact(datePart, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            || (datePart != text && !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
                && !DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out _)))
            throw new CcdlException($"{path}.{name}", $"'{text}' is not a date; write yyyy-MM-dd");
        return Days.From(date);
    }

    // --- canonical order -------------------------------------------------------------------------

    static IReadOnlyList<IReadOnlyList<Criterion>> Canonical(List<List<Criterion>> groups) =>
        groups.Select(CanonicalGroup)
            .Select(g => (Key: CanonicalForm.WriteGroup(g), Group: g))
            .DistinctBy(g => g.Key)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Group)
            .ToList();

    static IReadOnlyList<Criterion> CanonicalGroup(List<Criterion> group) =>
        group.Select(c => (Key: CanonicalForm.WriteCriterion(c), Criterion: c))
            .DistinctBy(c => c.Key)
            .OrderBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => c.Criterion)
            .ToList();

    static IReadOnlyList<TermCode> Canonical(List<TermCode> codes, CriterionKind kind)
    {
        if (kind == CriterionKind.Sex) return [PatientCodes.Sex];
        if (kind == CriterionKind.Age) return [PatientCodes.Age];
        var all = new List<TermCode>();
        foreach (var code in codes)
        {
            var value = code.Code;
            // "C50.-" is how ICD-10-GM writes "C50 and its children"; the prefix match already does that.
            if (CodeSystems.IsHierarchical(code.System) && value.EndsWith(".-", StringComparison.Ordinal) && value.Length > 2)
                value = value[..^2];
            all.Add(code with { Code = value });
            if (code.System == CodeSystems.Atc && PatientCodes.AtcPartner(value) is { } partner)
                all.Add(new TermCode(CodeSystems.Atc, partner));
        }
        return all.Distinct().OrderBy(c => c.System, StringComparer.Ordinal).ThenBy(c => c.Code, StringComparer.Ordinal).ToList();
    }

    static IReadOnlyList<AttributeFilter> Sorted(List<AttributeFilter> filters) =>
        filters.DistinctBy(CanonicalForm.WriteAttribute).OrderBy(CanonicalForm.WriteAttribute, StringComparer.Ordinal).ToList();

    // --- JSON shape checks -----------------------------------------------------------------------

    /// <summary>The object's fields; unknown or duplicate names are refused, null values count as absent.</summary>
    static Dictionary<string, JsonElement> Fields(JsonElement element, string path, params string[] allowed)
    {
        Expect(element, JsonValueKind.Object, path);
        var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            string name;
            try { name = property.Name; }
            catch (InvalidOperationException e) when (FromJson(e)) { throw new CcdlException(path, "a field name holds an escaped lone UTF-16 surrogate (\\ud800-\\udfff); that is not text"); }
            var propertyPath = path == "$" ? name : $"{path}.{name}";
            if (!allowed.Contains(name))
                throw new CcdlException(propertyPath, $"unknown field '{name}'; allowed here: {string.Join(", ", allowed)}");
            if (!seen.Add(name))
                throw new CcdlException(propertyPath, $"field '{name}' appears twice; keep one");
            if (property.Value.ValueKind != JsonValueKind.Null) fields[name] = property.Value;
        }
        return fields;
    }

    static string? String(Dictionary<string, JsonElement> fields, string name, string path, bool required)
    {
        var fieldPath = path == "$" ? name : $"{path}.{name}";
        if (!fields.TryGetValue(name, out var element))
            return required ? throw new CcdlException(path == "$" ? name : path, $"missing field '{name}'") : null;
        Expect(element, JsonValueKind.String, fieldPath);
        return Text(element, fieldPath);
    }

    /// <summary>A string value; an escaped lone surrogate ("\ud800") parses as JSON but is no text.</summary>
    static string Text(JsonElement element, string path)
    {
        try { return element.GetString()!; }
        catch (InvalidOperationException e) when (FromJson(e)) { throw new CcdlException(path, "holds an escaped lone UTF-16 surrogate (\\ud800-\\udfff); that is not text"); }
    }

    /// <summary>System.Text.Json accepts an escaped lone surrogate and throws only when the text is read.</summary>
    static bool FromJson(InvalidOperationException e) => e.TargetSite?.Module.Assembly == typeof(JsonDocument).Assembly;

    static int LoneSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(text[i])) return i;
        }
        return -1;
    }

    static void Expect(JsonElement element, JsonValueKind kind, string path)
    {
        if (element.ValueKind != kind)
            throw new CcdlException(path, $"must be {Article(kind)}, found {Article(element.ValueKind)}");
    }

    static string Article(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
