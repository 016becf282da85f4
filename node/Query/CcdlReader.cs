using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Midia.Node.Store;

namespace Midia.Node.Query;

/// <summary>
/// The CCDL reader: walks the JSON by hand so every refusal carries the JSON path of what to change.
/// Unknown codes pass (they simply match nothing) and so do fields CCDL does not define (CCDL 2.0.0
/// dropped additionalProperties: false); wrong types, fields CCDL defines used where they do not
/// belong, and constructs the engine cannot evaluate exactly are refused.
/// </summary>
static partial class CcdlReader
{
    /// <summary>The version strings of the flat shape (CCDL 1.x/2.x and the FDPG StructuredQuery before it).</summary>
    static readonly string[] FlatVersions =
    [
        "2", "http://to_be_decided.com/draft-1/schema#", "http://to_be_decided.com/draft-2/schema#",
        "https://medizininformatik-initiative.de/fdpg/StructuredQuery/v3/schema",
        "https://medizininformatik-initiative.de/fdpg/ClinicalCohortDefinitionLanguage/v1/schema",
        "https://medizininformatik-initiative.de/fdpg/ClinicalCohortDefinitionLanguage/v2/schema",
    ];

    /// <summary>CCDL 3: the flat shape with `negated`, or named groups with relative time restrictions.</summary>
    static readonly string[] Version3 = ["3", "https://medizininformatik-initiative.de/fdpg/ClinicalCohortDefinitionLanguage/v3/schema"];

    /// <summary>
    /// Field names that carry meaning somewhere in CCDL. Found where they do not belong, they are refused —
    /// guessing what was meant could change the count; any other unknown field is ignored.
    /// </summary>
    static readonly HashSet<string> MeaningfulFields =
    [
        "inclusionCriteria", "exclusionCriteria", "termCodes", "valueFilter", "attributeFilters", "timeRestriction", "context",
        "type", "selectedConcepts", "comparator", "value", "unit", "minValue", "maxValue", "attributeCode", "criteria",
        "afterDate", "beforeDate", "negated", "relativeTimeRestrictions", "anchorRef", "minOffset", "maxOffset",
        "anchorOccurrence", "anchorPoint", "code", "system",
    ];

    static readonly string[] CodingFields = ["system", "code", "display", "version"];
    static readonly string[] UnitFields = ["code", "display", "system", "version"];

    /// <summary>Attribute names the FDPG ontology uses for a reference the importer stores under another name.</summary>
    static readonly Dictionary<string, string> ReferenceAliases = new(StringComparer.Ordinal)
    {
        ["diagnose"] = "festgestelltediagnose",
        ["fall"] = "encounter",
        ["kontakt"] = "encounter",
    };

    /// <summary>Where a criterion stands: directly in a group, in a CCDL v3 group, or inside a reference filter.</summary>
    enum Scope { Flat, GroupLeaf, Referenced }

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
        var version = String(root, "version", "$", required: true)!.Trim();
        bool v3 = Version3.Contains(version);
        if (!v3 && !FlatVersions.Contains(version) && !SemanticVersion2().IsMatch(version))
            throw new CcdlException("version", $"unsupported CCDL version '{version}'; use \"2\" (or a 2.x.y release) or \"3\"");
        var display = String(root, "display", "$", required: false);

        if (v3 && IsGrouped(root))
        {
            var groups = new GroupReader();
            var inclusionAlternatives = groups.Alternatives(root, "inclusionCriteria", exclusion: false);
            var exclusionAlternatives = groups.Alternatives(root, "exclusionCriteria", exclusion: true);
            groups.Check();
            return new CohortQuery(display, inclusionAlternatives, exclusionAlternatives);
        }

        var inclusionWritten = Groups(root, "inclusionCriteria");
        var exclusionWritten = Groups(root, "exclusionCriteria");
        var inclusion = Canonical(inclusionWritten);
        var exclusion = Canonical(exclusionWritten);
        var first = inclusionWritten.Count > 0 ? CanonicalGroup(inclusionWritten[0]) : null;
        return new CohortQuery(display, inclusion, exclusion, first);
    }

    /// <summary>A v3 document is grouped when its second level holds group objects (with `criteria`) rather than criteria.</summary>
    static bool IsGrouped(Dictionary<string, JsonElement> root)
    {
        foreach (var name in new[] { "inclusionCriteria", "exclusionCriteria" })
            if (root.TryGetValue(name, out var list) && list.ValueKind == JsonValueKind.Array)
                foreach (var array in list.EnumerateArray())
                    if (array.ValueKind == JsonValueKind.Array)
                        foreach (var item in array.EnumerateArray())
                            if (item.ValueKind == JsonValueKind.Object) return item.TryGetProperty("criteria", out _);
        return false;
    }

    [GeneratedRegex(@"^2\.[0-9]+\.[0-9]+$")]
    private static partial Regex SemanticVersion2();

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
                group.Add(ReadCriterion(criterion, $"{groupPath}[{c++}]", Scope.Flat));
            groups.Add(group);
            g++;
        }
        return groups;
    }

    static Criterion ReadCriterion(JsonElement element, string path, Scope scope)
    {
        var fields = Fields(element, path, "context", "termCodes", "valueFilter", "attributeFilters", "timeRestriction", "negated");
        var context = fields.TryGetValue("context", out var contextElement) ? ReadContext(contextElement, $"{path}.context") : null;

        if (!fields.TryGetValue("termCodes", out var termCodesElement))
            throw new CcdlException(path, "missing field 'termCodes': a criterion needs at least one term code");
        Expect(termCodesElement, JsonValueKind.Array, $"{path}.termCodes");
        if (termCodesElement.GetArrayLength() == 0)
            throw new CcdlException($"{path}.termCodes", "empty: give at least one term code");
        var termCodes = new List<TermCode>();
        int t = 0;
        foreach (var codeElement in termCodesElement.EnumerateArray())
            termCodes.Add(ReadTermCode(codeElement, $"{path}.termCodes[{t++}]"));

        var kind = KindOf(termCodes, context, path);
        if (scope == Scope.Referenced && kind != CriterionKind.Facts)
            throw new CcdlException(path, $"a reference filter follows a link to another resource's facts; {Word(kind)} is not one — put it in a criterion of its own");

        bool negated = false;
        if (fields.TryGetValue("negated", out var negatedElement))
        {
            if (negatedElement.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                throw new CcdlException($"{path}.negated", $"must be a boolean, found {Article(negatedElement.ValueKind)}");
            negated = negatedElement.GetBoolean();
            if (negated && scope == Scope.Referenced)
                throw new CcdlException($"{path}.negated", "criteria inside a reference filter cannot be negated (CCDL); remove negated");
        }

        ValueFilter? value = fields.TryGetValue("valueFilter", out var valueElement)
            ? ReadValueFilter(valueElement, $"{path}.valueFilter", kind, attribute: false)
            : null;

        var attributes = new List<AttributeFilter>();
        var references = new List<ReferenceFilter>();
        if (fields.TryGetValue("attributeFilters", out var attributesElement))
        {
            Expect(attributesElement, JsonValueKind.Array, $"{path}.attributeFilters");
            int a = 0;
            foreach (var attribute in attributesElement.EnumerateArray())
            {
                var attributePath = $"{path}.attributeFilters[{a++}]";
                if (kind != CriterionKind.Facts)
                    throw new CcdlException(attributePath, $"a {Word(kind)} criterion has no attributes; remove the attribute filter");
                Expect(attribute, JsonValueKind.Object, attributePath);
                if (attribute.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && Text(type, $"{attributePath}.type") == "reference")
                {
                    if (scope == Scope.Referenced)
                        throw new CcdlException(attributePath, "a reference filter inside a reference filter is not CCDL; follow one link per criterion");
                    references.Add(ReadReferenceFilter(attribute, attributePath));
                }
                else attributes.Add(ReadAttributeFilter(attribute, attributePath));
            }
        }

        TimeRestriction? time = null;
        if (fields.TryGetValue("timeRestriction", out var timeElement))
        {
            if (kind != CriterionKind.Facts)
                throw new CcdlException($"{path}.timeRestriction", kind switch
                {
                    CriterionKind.Age => "a time restriction on age (age at some date) is not supported; age is completed years today — remove the time restriction",
                    CriterionKind.Consent => "consent is evaluated as in force today (the node's consent state), not at a past date; remove the time restriction",
                    _ => "sex has no date; remove the time restriction",
                });
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
            case CriterionKind.Consent when value is not null:
                throw new CcdlException($"{path}.valueFilter", "a consent criterion has no value; the combined code says which consent is required — remove the value filter");
        }

        IReadOnlyList<IReadOnlyList<string>> policies = [];
        if (kind == CriterionKind.Consent)
        {
            var alternatives = new List<IReadOnlyList<string>>();
            for (int i = 0; i < termCodes.Count; i++)
                alternatives.Add(ConsentCriteria.Policies(termCodes[i])
                    ?? throw new CcdlException($"{path}.termCodes[{i}].code",
                        $"'{termCodes[i].Code}' is not a consent code this node knows: use a combined code of {ConsentCriteria.CombinedSystem} (yes|no four times, e.g. yes-yes-no-no) or an MII policy code"));
            policies = alternatives.DistinctBy(a => string.Join(",", a)).OrderBy(a => string.Join(",", a), StringComparer.Ordinal).ToList();
        }

        return new Criterion(kind, Canonical(termCodes, kind), value, Sorted(attributes), time, path)
        {
            Context = context,
            References = references.DistinctBy(CanonicalForm.WriteReference).OrderBy(CanonicalForm.WriteReference, StringComparer.Ordinal).ToList(),
            Policies = policies,
            Negated = negated,
        };
    }

    static QueryContext ReadContext(JsonElement element, string path)
    {
        var fields = Fields(element, path, CodingFields);
        var system = String(fields, "system", path, required: false)?.Trim();
        var code = String(fields, "code", path, required: true)!.Trim();
        String(fields, "display", path, required: false);
        String(fields, "version", path, required: false);
        if (system is not null && system.Length > 0 && !system.Equals(QueryContexts.System, StringComparison.OrdinalIgnoreCase))
            throw new CcdlException($"{path}.system", $"context system '{system}' is not the FDPG ontology's ({QueryContexts.System}); this node does not know its contexts");
        return QueryContexts.Find(code)
            ?? throw new CcdlException($"{path}.code", $"context '{code}' is not one this node evaluates (a term code is read in its context); known: {QueryContexts.Known}");
    }

    static CriterionKind KindOf(List<TermCode> termCodes, QueryContext? context, string path)
    {
        var kinds = termCodes.Select(c =>
            PatientCodes.IsSex(c) ? CriterionKind.Sex
            : PatientCodes.IsAge(c) ? CriterionKind.Age
            : ConsentCriteria.IsConsentSystem(c.System) || context == QueryContexts.Consent ? CriterionKind.Consent
            : CriterionKind.Facts).ToList();
        for (int i = 1; i < kinds.Count; i++)
            if (kinds[i] != kinds[0])
                throw new CcdlException($"{path}.termCodes[{i}]",
                    "sex, age, consent and other codes cannot share one criterion (their filters mean different things); put them in separate criteria of the same group");
        var kind = kinds[0];
        if (context is null) return kind;
        if (context == QueryContexts.Patient && kind is not (CriterionKind.Sex or CriterionKind.Age))
            throw new CcdlException($"{path}.termCodes[0]",
                $"context Patient holds sex and age; {termCodes[0].System}|{termCodes[0].Code} is not one of them — use the context of the data it is (Diagnose, Laboruntersuchung, ...)");
        if (context == QueryContexts.Consent && kind != CriterionKind.Consent)
            throw new CcdlException($"{path}.termCodes[0]", $"context Einwilligung takes consent codes ({ConsentCriteria.CombinedSystem} or MII policy codes), not {termCodes[0].System}");
        if (context != QueryContexts.Consent && kind == CriterionKind.Consent)
            throw new CcdlException($"{path}.context", $"a consent code belongs in context Einwilligung, not {context.Name}");
        if (context.Kinds.Count > 0 && kind is CriterionKind.Sex or CriterionKind.Age)
            throw new CcdlException($"{path}.context", $"{Word(kind)} is a patient criterion: its context is Patient, not {context.Name}");
        return kind;
    }

    static string Word(CriterionKind kind) => kind switch { CriterionKind.Sex => "sex", CriterionKind.Age => "age", CriterionKind.Consent => "consent", _ => "a fact" };

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
        var name = AttributeName(element, path);
        var filter = ReadValueFilter(element, path, CriterionKind.Facts, attribute: true);
        return new AttributeFilter(name, filter, path);
    }

    static string AttributeName(JsonElement element, string path)
    {
        var codeElement = element.TryGetProperty("attributeCode", out var c) ? c : default;
        if (codeElement.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
            throw new CcdlException(path, "missing field 'attributeCode': name the attribute to filter on");
        var codeFields = Fields(codeElement, $"{path}.attributeCode", CodingFields);
        var name = String(codeFields, "code", $"{path}.attributeCode", required: true)!.Trim().ToLowerInvariant();
        foreach (var field in new[] { "system", "display", "version" }) String(codeFields, field, $"{path}.attributeCode", required: false);
        if (name.Length == 0) throw new CcdlException($"{path}.attributeCode.code", "empty: name the attribute");
        return name;
    }

    static ReferenceFilter ReadReferenceFilter(JsonElement element, string path)
    {
        var fields = Fields(element, path, "type", "attributeCode", "criteria");
        var name = AttributeName(element, path);
        name = ReferenceAliases.GetValueOrDefault(name, name);
        if (!fields.TryGetValue("criteria", out var criteriaElement))
            throw new CcdlException(path, "missing field 'criteria': a reference filter names the criteria the referenced resource must meet");
        Expect(criteriaElement, JsonValueKind.Array, $"{path}.criteria");
        if (criteriaElement.GetArrayLength() == 0)
            throw new CcdlException($"{path}.criteria", "empty: give at least one criterion for the referenced resource");
        var criteria = new List<Criterion>();
        int i = 0;
        foreach (var nested in criteriaElement.EnumerateArray())
            criteria.Add(ReadCriterion(nested, $"{path}.criteria[{i++}]", Scope.Referenced));
        var canonical = criteria.DistinctBy(CanonicalForm.WriteCriterion).OrderBy(CanonicalForm.WriteCriterion, StringComparer.Ordinal).ToList();
        return new ReferenceFilter(name, canonical, path);
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
                        // Sex concepts come with odd systems ($lookup URLs, "", administrative-gender): the code alone decides.
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
            case "reference":
                throw new CcdlException($"{path}.type", "a value filter cannot be a reference; references are attribute filters");
            case null when !element.TryGetProperty("type", out _):
                throw new CcdlException(path, "missing field 'type': use concept, quantity-comparator or quantity-range");
            case null:
                throw new CcdlException($"{path}.type", "must be a string: concept, quantity-comparator or quantity-range");
            default:
                throw new CcdlException($"{path}.type", $"unknown filter type '{type}'; use concept, quantity-comparator or quantity-range{(attribute ? " (or reference)" : "")}");
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
        // {} restricts nothing; fields but neither bound is a misspelt bound, which must not silently restrict nothing.
        if (after is null && before is null)
            foreach (var stray in element.EnumerateObject())
                if (stray.Value.ValueKind != JsonValueKind.Null)
                    throw new CcdlException($"{path}.{stray.Name}", $"a time restriction is afterDate and/or beforeDate; '{stray.Name}' is neither");
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

    // --- CCDL v3 groups ---------------------------------------------------------------------------

    /// <summary>
    /// Reads the group arrays of a CCDL v3 document and checks the anchors between them once all are
    /// read: every anchorRef names a group, the references form no cycle, and every anchor can be dated.
    /// </summary>
    sealed class GroupReader
    {
        readonly Dictionary<string, QueryGroup> byId = new(StringComparer.Ordinal);
        readonly List<QueryGroup> all = [];

        public List<IReadOnlyList<QueryGroup>> Alternatives(Dictionary<string, JsonElement> root, string name, bool exclusion)
        {
            var alternatives = new List<IReadOnlyList<QueryGroup>>();
            if (!root.TryGetValue(name, out var element)) return alternatives;
            Expect(element, JsonValueKind.Array, name);
            int a = 0;
            foreach (var arrayElement in element.EnumerateArray())
            {
                var arrayPath = $"{name}[{a++}]";
                Expect(arrayElement, JsonValueKind.Array, arrayPath);
                if (arrayElement.GetArrayLength() == 0)
                    throw new CcdlException(arrayPath, "an empty group array is ambiguous (it would hold for everybody); remove it");
                var groups = new List<QueryGroup>();
                int g = 0;
                foreach (var groupElement in arrayElement.EnumerateArray())
                    groups.Add(Group(groupElement, $"{arrayPath}[{g++}]", exclusion));
                alternatives.Add(groups);
            }
            return alternatives;
        }

        QueryGroup Group(JsonElement element, string path, bool exclusion)
        {
            var fields = Fields(element, path, "id", "criteria", "relativeTimeRestrictions", "anchorOccurrence", "anchorPoint");
            var id = String(fields, "id", path, required: false)?.Trim();
            if (id is { Length: 0 }) throw new CcdlException($"{path}.id", "empty: give the group an id or leave it out");
            if (!fields.TryGetValue("criteria", out var criteriaElement))
                throw new CcdlException(path, "missing field 'criteria': a group holds its criteria as an array of arrays");
            Expect(criteriaElement, JsonValueKind.Array, $"{path}.criteria");
            if (criteriaElement.GetArrayLength() == 0)
                throw new CcdlException($"{path}.criteria", "empty: a group needs at least one clause of criteria");

            bool now = false;
            var clauses = new List<List<Criterion>>();
            int c = 0;
            foreach (var clauseElement in criteriaElement.EnumerateArray())
            {
                var clausePath = $"{path}.criteria[{c++}]";
                Expect(clauseElement, JsonValueKind.Array, clausePath);
                if (clauseElement.GetArrayLength() == 0)
                    throw new CcdlException(clausePath, "an empty clause is ambiguous (an empty OR matches nobody, an empty AND everybody); remove it");
                var clause = new List<Criterion>();
                int i = 0;
                foreach (var leaf in clauseElement.EnumerateArray())
                {
                    var leafPath = $"{clausePath}[{i++}]";
                    if (leaf.ValueKind == JsonValueKind.Object && leaf.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String)
                    {
                        var typeText = Text(type, $"{leafPath}.type");
                        if (typeText != "now") throw new CcdlException($"{leafPath}.type", $"unknown criterion type '{typeText}'; the only typed criterion is now");
                        if (criteriaElement.GetArrayLength() != 1 || clauseElement.GetArrayLength() != 1)
                            throw new CcdlException(leafPath, "the now criterion stands alone in its group (criteria: [[{\"type\": \"now\"}]])");
                        now = true;
                        continue;
                    }
                    clause.Add(ReadCriterion(leaf, leafPath, Scope.GroupLeaf));
                }
                if (clause.Count > 0) clauses.Add(clause);
            }

            var relative = new List<RelativeTime>();
            if (fields.TryGetValue("relativeTimeRestrictions", out var relativeElement))
            {
                Expect(relativeElement, JsonValueKind.Array, $"{path}.relativeTimeRestrictions");
                int r = 0;
                foreach (var entry in relativeElement.EnumerateArray()) relative.Add(Relative(entry, $"{path}.relativeTimeRestrictions[{r++}]"));
                if (now && relative.Count > 0)
                    throw new CcdlException($"{path}.relativeTimeRestrictions", "the now criterion is the evaluation day; it cannot be restricted relative to anything");
            }

            var occurrence = String(fields, "anchorOccurrence", path, required: false) switch
            {
                null => AnchorOccurrence.Unspecified,
                "first" => AnchorOccurrence.First,
                "last" => AnchorOccurrence.Last,
                "any" => AnchorOccurrence.Any,
                var other => throw new CcdlException($"{path}.anchorOccurrence", $"unknown anchorOccurrence '{other}'; use first, last or any"),
            };
            var point = String(fields, "anchorPoint", path, required: false) switch
            {
                null or "start" => AnchorPoint.Start,
                "end" => AnchorPoint.End,
                var other => throw new CcdlException($"{path}.anchorPoint", $"unknown anchorPoint '{other}'; use start or end"),
            };

            // A repeated clause changes nothing (A and A, A or A), and neither does their order.
            var canonicalClauses = clauses.Select(CanonicalGroup).DistinctBy(CanonicalForm.WriteGroup).OrderBy(CanonicalForm.WriteGroup, StringComparer.Ordinal).ToList();
            var group = new QueryGroup(id, canonicalClauses, exclusion, relative, occurrence, point, now, path);
            if (id is not null && !byId.TryAdd(id, group))
                throw new CcdlException($"{path}.id", $"the id '{id}' is used by another group ({byId[id].Path}); ids name one group each");
            all.Add(group);
            return group;
        }

        static RelativeTime Relative(JsonElement element, string path)
        {
            var fields = Fields(element, path, "anchorRef", "minOffset", "maxOffset");
            var anchor = String(fields, "anchorRef", path, required: true)!.Trim();
            var min = Offset(fields, "minOffset", path);
            var max = Offset(fields, "maxOffset", path);
            if (min is null && max is null)
                throw new CcdlException(path, "give minOffset, maxOffset or both: a window without bounds restricts nothing");
            return new RelativeTime(anchor, min, max, path);
        }

        /// <summary>All checks that need every group: anchors exist, are datable, and form no cycle.</summary>
        public void Check()
        {
            var anchors = new HashSet<string>(StringComparer.Ordinal);
            foreach (var group in all)
                foreach (var entry in group.Relative)
                {
                    if (!byId.TryGetValue(entry.AnchorRef, out var anchor))
                        throw new CcdlException($"{entry.Path}.anchorRef", $"no group has the id '{entry.AnchorRef}'");
                    anchors.Add(entry.AnchorRef);
                    if (ReferenceEquals(anchor, group))
                        throw new CcdlException($"{entry.Path}.anchorRef", "a group cannot be its own anchor");
                }
            foreach (var group in all)
            {
                bool windowed = group.Relative.Count > 0, anchor = group.Id is not null && anchors.Contains(group.Id);
                if (group.Occurrence == AnchorOccurrence.Any)
                    throw new CcdlException($"{group.Path}.anchorOccurrence",
                        "anchorOccurrence any (one shared witness per group array) is not evaluated by this node; use first or last");
                if (anchor && !group.Now && group.Occurrence == AnchorOccurrence.Unspecified)
                    throw new CcdlException(group.Path, $"the group '{group.Id}' is an anchor: say which occurrence dates it (anchorOccurrence first or last)");
                if (!windowed && !anchor) continue;
                foreach (var criterion in group.Criteria.SelectMany(clause => clause))
                {
                    if (criterion.Kind != CriterionKind.Facts)
                        throw new CcdlException(criterion.Path, $"{Word(criterion.Kind)} has no date, so it cannot be placed in time relative to another group; move it to a group without relativeTimeRestrictions{(anchor ? " that is no anchor" : "")}");
                    if (criterion.Negated)
                        throw new CcdlException($"{criterion.Path}.negated", "a negated criterion has no date to place in time; move it to a group without relativeTimeRestrictions that is no anchor");
                }
                // The anchor's witness is one date per AND-ed clause (CCDL v3 §6); an exclusion group is an OR of
                // AND-clauses, which has that shape only with one clause or with one criterion per clause.
                if (anchor && group.Exclusion && group.Criteria.Count > 1 && group.Criteria.Any(clause => clause.Count > 1))
                    throw new CcdlException($"{group.Path}.criteria",
                        "an exclusion group used as an anchor must be one clause, or one criterion per clause; split it into groups");
            }
            // Cycles: depth-first over anchorRef edges.
            var state = new Dictionary<QueryGroup, int>(ReferenceEqualityComparer.Instance);
            foreach (var group in all) Visit(group, state);
        }

        void Visit(QueryGroup group, Dictionary<QueryGroup, int> state)
        {
            if (state.TryGetValue(group, out var s))
            {
                if (s == 1) throw new CcdlException(group.Path, $"the anchors of group '{group.Id}' lead back to it; anchor references must not form a cycle");
                return;
            }
            state[group] = 1;
            foreach (var entry in group.Relative) Visit(byId[entry.AnchorRef], state);
            state[group] = 2;
        }
    }

    /// <summary>A signed ISO 8601 duration (-P3D, P1Y6M, PT24H) in whole days: facts are dated to the day.</summary>
    static CalendarOffset? Offset(Dictionary<string, JsonElement> fields, string name, string path)
    {
        var text = String(fields, name, path, required: false)?.Trim();
        if (text is null) return null;
        var match = Duration().Match(text);
        if (!match.Success || match.Groups.Cast<Group>().Skip(2).All(g => !g.Success))
            throw new CcdlException($"{path}.{name}", $"'{text}' is not an ISO 8601 duration (P1Y, P6M, P30D, -P2D, PT24H)");
        long Part(int group) => match.Groups[group].Success ? long.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
        long years = Part(2), months = Part(3), weeks = Part(4), days = Part(5), hours = Part(6), minutes = Part(7), seconds = Part(8);
        if (years > 500 || months > 6000 || weeks > 30_000 || days > 200_000 || hours > 5_000_000 || minutes > 300_000_000 || seconds > 20_000_000_000)
            throw new CcdlException($"{path}.{name}", $"'{text}' is beyond any patient's record");
        var timeSeconds = hours * 3600 + minutes * 60 + seconds;
        if (timeSeconds % 86_400 != 0)
            throw new CcdlException($"{path}.{name}", $"'{text}' is not a whole number of days; facts are dated to the day, so write the window in days (PT24H = P1D)");
        return new CalendarOffset((int)years, (int)months, (int)(weeks * 7 + days + timeSeconds / 86_400), match.Groups[1].Success);
    }

    [GeneratedRegex(@"^(-)?P(?:([0-9]{1,9})Y)?(?:([0-9]{1,9})M)?(?:([0-9]{1,9})W)?(?:([0-9]{1,9})D)?(?:T(?:([0-9]{1,9})H)?(?:([0-9]{1,9})M)?(?:([0-9]{1,11})S)?)?$")]
    private static partial Regex Duration();

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
            if ((code.System == CodeSystems.Icd10Gm || code.System == CodeSystems.Icd10Who) && value.EndsWith(".-", StringComparison.Ordinal) && value.Length > 2)
                value = value[..^2];
            if (code.System == ConsentCriteria.CombinedSystem) value = value.ToLowerInvariant();
            if (code.System == CodeSystems.MiiConsentPolicy && ConsentCriteria.Policies(code) is [var policy]) value = policy;
            all.Add(code with { Code = value });
            if (code.System == CodeSystems.Atc && PatientCodes.AtcPartner(value) is { } partner)
                all.Add(new TermCode(CodeSystems.Atc, partner));
        }
        return all.Distinct().OrderBy(c => c.System, StringComparer.Ordinal).ThenBy(c => c.Code, StringComparer.Ordinal).ToList();
    }

    static IReadOnlyList<AttributeFilter> Sorted(List<AttributeFilter> filters) =>
        filters.DistinctBy(CanonicalForm.WriteAttribute).OrderBy(CanonicalForm.WriteAttribute, StringComparer.Ordinal).ToList();

    // --- JSON shape checks -----------------------------------------------------------------------

    /// <summary>
    /// The object's fields: duplicates are refused, null values count as absent, a field CCDL defines
    /// elsewhere is refused here (it would mean something we would be guessing), any other field is ignored.
    /// </summary>
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
            if (!seen.Add(name))
                throw new CcdlException(propertyPath, $"field '{name}' appears twice; keep one");
            if (!allowed.Contains(name))
            {
                if (MeaningfulFields.Contains(name) && property.Value.ValueKind != JsonValueKind.Null)
                    throw new CcdlException(propertyPath, $"field '{name}' does not belong here (allowed here: {string.Join(", ", allowed)}); CCDL gives it a meaning elsewhere, so it is not ignored");
                continue;
            }
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
