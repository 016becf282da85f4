using System.Buffers;
using System.Text;
using System.Text.Json;
using Midia.Node.Store;

namespace Midia.Node.Query;

/// <summary>
/// The canonical JSON of a query: itself valid CCDL (it parses back to the same form), with fixed
/// field order, canonical systems, units and dates, display dropped. Lists are sorted by
/// the ordinal order of their members' canonical JSON, so writing a question differently (order,
/// aliases, F vs female, old vs new ATC code) cannot change its hash. The context is kept (it decides
/// what a code means) under its canonical name; CCDL v3 groups keep their ids and order.
/// </summary>
static class CanonicalForm
{
    public static string Write(IReadOnlyList<IReadOnlyList<Criterion>> inclusion, IReadOnlyList<IReadOnlyList<Criterion>> exclusion) =>
        Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("version", "2");
            w.WritePropertyName("inclusionCriteria");
            Groups(w, inclusion);
            w.WritePropertyName("exclusionCriteria");
            Groups(w, exclusion);
            w.WriteEndObject();
        });

    /// <summary>A CCDL v3 document of groups: groups keep their order and ids (anchors refer to them).</summary>
    public static string Write(IReadOnlyList<IReadOnlyList<QueryGroup>> inclusion, IReadOnlyList<IReadOnlyList<QueryGroup>> exclusion) =>
        Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("version", "3");
            w.WritePropertyName("inclusionCriteria");
            Alternatives(w, inclusion);
            w.WritePropertyName("exclusionCriteria");
            Alternatives(w, exclusion);
            w.WriteEndObject();
        });

    public static string WriteGroup(IReadOnlyList<Criterion> group) => Json(w => Group(w, group));
    public static string WriteCriterion(Criterion criterion) => Json(w => Criterion(w, criterion));
    public static string WriteAttribute(AttributeFilter filter) => Json(w => Attribute(w, filter));
    public static string WriteReference(ReferenceFilter filter) => Json(w => Reference(w, filter));

    static void Alternatives(Utf8JsonWriter w, IReadOnlyList<IReadOnlyList<QueryGroup>> alternatives)
    {
        w.WriteStartArray();
        foreach (var array in alternatives)
        {
            w.WriteStartArray();
            foreach (var group in array) QueryGroup(w, group);
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }

    static void QueryGroup(Utf8JsonWriter w, QueryGroup g)
    {
        w.WriteStartObject();
        if (g.Id is not null) w.WriteString("id", g.Id);
        w.WritePropertyName("criteria");
        if (g.Now) w.WriteRawValue("""[[{"type":"now"}]]""");
        else Groups(w, g.Criteria);
        if (g.Relative.Count > 0)
        {
            w.WritePropertyName("relativeTimeRestrictions");
            w.WriteStartArray();
            foreach (var r in g.Relative)
            {
                w.WriteStartObject();
                w.WriteString("anchorRef", r.AnchorRef);
                if (r.Min is { } min) w.WriteString("minOffset", min.ToString());
                if (r.Max is { } max) w.WriteString("maxOffset", max.ToString());
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        if (g.Occurrence != AnchorOccurrence.Unspecified) w.WriteString("anchorOccurrence", g.Occurrence.ToString().ToLowerInvariant());
        if (g.Point != AnchorPoint.Start) w.WriteString("anchorPoint", "end");
        w.WriteEndObject();
    }

    static void Groups(Utf8JsonWriter w, IReadOnlyList<IReadOnlyList<Criterion>> groups)
    {
        w.WriteStartArray();
        foreach (var group in groups) Group(w, group);
        w.WriteEndArray();
    }

    static void Group(Utf8JsonWriter w, IReadOnlyList<Criterion> group)
    {
        w.WriteStartArray();
        foreach (var criterion in group) Criterion(w, criterion);
        w.WriteEndArray();
    }

    static void Criterion(Utf8JsonWriter w, Criterion c)
    {
        w.WriteStartObject();
        if (c.Context is { } context)
        {
            w.WritePropertyName("context");
            w.WriteStartObject();
            w.WriteString("system", QueryContexts.System);
            w.WriteString("code", context.Name);
            w.WriteEndObject();
        }
        if (c.Negated) w.WriteBoolean("negated", true);
        w.WritePropertyName("termCodes");
        w.WriteStartArray();
        foreach (var code in c.TermCodes) Coding(w, code);
        w.WriteEndArray();
        if (c.Value is { } value)
        {
            w.WritePropertyName("valueFilter");
            w.WriteStartObject();
            Filter(w, value);
            w.WriteEndObject();
        }
        if (c.Attributes.Count > 0 || c.References.Count > 0)
        {
            w.WritePropertyName("attributeFilters");
            w.WriteStartArray();
            foreach (var attribute in c.Attributes) Attribute(w, attribute);
            foreach (var reference in c.References) Reference(w, reference);
            w.WriteEndArray();
        }
        if (c.Time is { } time && (time.After is not null || time.Before is not null))
        {
            w.WritePropertyName("timeRestriction");
            w.WriteStartObject();
            if (time.After is { } after) w.WriteString("afterDate", Days.ToDate(after).ToString("yyyy-MM-dd"));
            if (time.Before is { } before) w.WriteString("beforeDate", Days.ToDate(before).ToString("yyyy-MM-dd"));
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    static void Attribute(Utf8JsonWriter w, AttributeFilter a)
    {
        w.WriteStartObject();
        w.WritePropertyName("attributeCode");
        w.WriteStartObject();
        w.WriteString("code", a.Name);
        w.WriteEndObject();
        Filter(w, a.Filter);
        w.WriteEndObject();
    }

    static void Reference(Utf8JsonWriter w, ReferenceFilter r)
    {
        w.WriteStartObject();
        w.WriteString("type", "reference");
        w.WritePropertyName("attributeCode");
        w.WriteStartObject();
        w.WriteString("code", r.Name);
        w.WriteEndObject();
        w.WritePropertyName("criteria");
        w.WriteStartArray();
        foreach (var criterion in r.Criteria) Criterion(w, criterion);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    static void Filter(Utf8JsonWriter w, ValueFilter filter)
    {
        switch (filter)
        {
            case ConceptFilter concept:
                w.WriteString("type", "concept");
                w.WritePropertyName("selectedConcepts");
                w.WriteStartArray();
                foreach (var code in concept.Concepts) Coding(w, code);
                w.WriteEndArray();
                break;
            case ComparatorFilter comparator:
                w.WriteString("type", "quantity-comparator");
                w.WriteString("comparator", comparator.Comparator.ToString().ToLowerInvariant());
                w.WriteNumber("value", comparator.Value);
                Unit(w, comparator.Unit);
                break;
            case RangeFilter range:
                w.WriteString("type", "quantity-range");
                w.WriteNumber("minValue", range.Min);
                w.WriteNumber("maxValue", range.Max);
                Unit(w, range.Unit);
                break;
        }
    }

    static void Unit(Utf8JsonWriter w, string? unit)
    {
        if (unit is null) return;
        w.WritePropertyName("unit");
        w.WriteStartObject();
        w.WriteString("code", unit);
        w.WriteEndObject();
    }

    static void Coding(Utf8JsonWriter w, TermCode code)
    {
        w.WriteStartObject();
        w.WriteString("system", code.System);
        w.WriteString("code", code.Code);
        w.WriteEndObject();
    }

    static string Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) write(writer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
