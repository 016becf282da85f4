using System.Security.Cryptography;
using System.Text;
using Midia.Node.Store;

namespace Midia.Node.Query;

/// <summary>
/// A parsed, validated and canonicalised CCDL cohort definition. Inclusion is an AND of OR-groups,
/// exclusion an OR of AND-groups; both are kept in canonical order (criteria and groups sorted by
/// their canonical JSON, duplicates removed), so equal questions compare and hash equal.
/// A CCDL v3 document with relative time restrictions (<see cref="IsGrouped"/>) keeps its groups,
/// in the order written, in <see cref="InclusionAlternatives"/> and <see cref="ExclusionAlternatives"/>.
/// </summary>
public sealed class CohortQuery
{
    internal CohortQuery(string? display, IReadOnlyList<IReadOnlyList<Criterion>> inclusion,
        IReadOnlyList<IReadOnlyList<Criterion>> exclusion, IReadOnlyList<Criterion>? firstGroupAsWritten)
    {
        Display = display;
        Inclusion = inclusion;
        Exclusion = exclusion;
        FirstGroupAsWritten = firstGroupAsWritten;
        CanonicalJson = CanonicalForm.Write(inclusion, exclusion);
        CanonicalHash = Sha256Hex(CanonicalJson);
    }

    internal CohortQuery(string? display, IReadOnlyList<IReadOnlyList<QueryGroup>> inclusion, IReadOnlyList<IReadOnlyList<QueryGroup>> exclusion)
    {
        Display = display;
        Inclusion = [];
        Exclusion = [];
        InclusionAlternatives = inclusion;
        ExclusionAlternatives = exclusion;
        var first = inclusion.Count > 0 && inclusion[0].Count > 0 ? inclusion[0][0] : null;
        FirstGroupAsWritten = first is { Relative.Count: 0, Now: false } && first.Criteria.Count > 0 ? first.Criteria[0] : null;
        CanonicalJson = CanonicalForm.Write(inclusion, exclusion);
        CanonicalHash = Sha256Hex(CanonicalJson);
    }

    /// <summary>Parse: wrong JSON types, fields CCDL defines used in the wrong place, and constructs the
    /// node cannot evaluate exactly throw <see cref="CcdlException"/> with the JSON path of the offending
    /// part. Fields CCDL does not define at all are ignored (CCDL 2.0.0 dropped additionalProperties: false).</summary>
    public static CohortQuery Parse(string json) => CcdlReader.Read(json);

    /// <summary>The researcher's title for the query; not part of the canonical form.</summary>
    public string? Display { get; }

    /// <summary>AND of groups, each an OR of criteria. Empty: every patient. Empty for a grouped query.</summary>
    public IReadOnlyList<IReadOnlyList<Criterion>> Inclusion { get; }

    /// <summary>OR of groups, each an AND of criteria. Empty for a grouped query.</summary>
    public IReadOnlyList<IReadOnlyList<Criterion>> Exclusion { get; }

    /// <summary>CCDL v3 with groups: an OR of group arrays, each an AND of groups. Null for a flat query.</summary>
    public IReadOnlyList<IReadOnlyList<QueryGroup>>? InclusionAlternatives { get; }

    /// <summary>CCDL v3 with groups: patients matching any group array here are excluded. Null for a flat query.</summary>
    public IReadOnlyList<IReadOnlyList<QueryGroup>>? ExclusionAlternatives { get; }

    /// <summary>A CCDL v3 document of named groups (relative time restrictions between them).</summary>
    public bool IsGrouped => InclusionAlternatives is not null;

    /// <summary>Every criterion of the query, at any depth but the ones inside reference filters.</summary>
    public IEnumerable<Criterion> Criteria =>
        IsGrouped
            ? InclusionAlternatives!.Concat(ExclusionAlternatives!).SelectMany(a => a).SelectMany(g => g.Criteria).SelectMany(c => c)
            : Inclusion.Concat(Exclusion).SelectMany(g => g);

    /// <summary>The inclusion group the researcher wrote first (its criteria canonicalised): the
    /// anchor of the `year` stratifier. Canonical sorting may move it, so it is kept apart.</summary>
    public IReadOnlyList<Criterion>? FirstGroupAsWritten { get; }

    public string CanonicalJson { get; }

    /// <summary>SHA-256 (lower-case hex) of <see cref="CanonicalJson"/>.</summary>
    public string CanonicalHash { get; }

    /// <summary>The hash of a stratified question: the canonical query, the stratifiers in order, and
    /// (for `year`) the anchor group — two requests with this hash equal get the same strata.</summary>
    public string StratifiedHash(IReadOnlyList<string> by)
    {
        var text = new StringBuilder(CanonicalJson).Append("\nby:").AppendJoin(',', by);
        if (by.Contains(Stratification.Year) && FirstGroupAsWritten is { } anchor)
            text.Append("\nyear-anchor:").Append(CanonicalForm.WriteGroup(anchor));
        return Sha256Hex(text.ToString());
    }

    static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

/// <summary>What a criterion is evaluated against: coded facts, the patient's demographics, or the patient's consent.</summary>
public enum CriterionKind { Facts, Sex, Age, Consent }

/// <summary>One CCDL criterion after canonicalisation. Path is where it stood in the query as
/// written, for refusals found only at evaluation time (an attribute the data does not carry).</summary>
public sealed record Criterion(
    CriterionKind Kind,
    IReadOnlyList<TermCode> TermCodes,
    ValueFilter? Value,
    IReadOnlyList<AttributeFilter> Attributes,
    TimeRestriction? Time,
    string Path)
{
    /// <summary>The context (docs/QUERY-SEMANTICS.md): which kinds of facts the term codes are read in.
    /// Null: no context given, any kind.</summary>
    public QueryContext? Context { get; init; }

    /// <summary>Attribute filters of type reference: the fact's resource refers (by the named element) to a
    /// resource with a fact matching any of the nested criteria.</summary>
    public IReadOnlyList<ReferenceFilter> References { get; init; } = [];

    /// <summary>A consent criterion: any of these alternatives, each a set of policy codes that must all be permitted.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Policies { get; init; } = [];

    /// <summary>CCDL `negated`: the criterion holds for patients with no matching fact.</summary>
    public bool Negated { get; init; }
}

/// <summary>A code in a canonical system URI (CodeSystems.Canonical), trimmed.</summary>
public sealed record TermCode(string System, string Code);

public abstract record ValueFilter;

/// <summary>The fact's coded value is one of these (system canonical; for sex: code only).</summary>
public sealed record ConceptFilter(IReadOnlyList<TermCode> Concepts) : ValueFilter;

/// <summary>Unit is the canonical spelling (Units.Canonical); null = the quantity has no unit.</summary>
public sealed record ComparatorFilter(Comparator Comparator, double Value, string? Unit) : ValueFilter;

/// <summary>Inclusive on both ends.</summary>
public sealed record RangeFilter(double Min, double Max, string? Unit) : ValueFilter;

public enum Comparator { Eq, Ne, Lt, Le, Gt, Ge }

/// <summary>Name is the lower-cased attributeCode.code (the attribute table's name); Path for refusals.</summary>
public sealed record AttributeFilter(string Name, ValueFilter Filter, string Path);

/// <summary>Name is the lower-cased reference element (reference_link.name); any of the criteria may match the referenced resource.</summary>
public sealed record ReferenceFilter(string Name, IReadOnlyList<Criterion> Criteria, string Path);

/// <summary>Inclusive bounds in Days; null = open.</summary>
public sealed record TimeRestriction(int? After, int? Before);

/// <summary>A criterion's context: its canonical name and the kinds of facts it reads (empty for patient-level contexts).</summary>
public sealed record QueryContext(string Name, IReadOnlyList<FactKind> Kinds);

/// <summary>
/// A CCDL v3 group: its criteria (inclusion: an AND of OR-clauses; exclusion: an OR of AND-clauses),
/// the windows its facts must fall in relative to anchor groups, and how it serves as an anchor itself.
/// </summary>
public sealed record QueryGroup(
    string? Id,
    IReadOnlyList<IReadOnlyList<Criterion>> Criteria,
    bool Exclusion,
    IReadOnlyList<RelativeTime> Relative,
    AnchorOccurrence Occurrence,
    AnchorPoint Point,
    bool Now,
    string Path);

/// <summary>One relativeTimeRestrictions entry: the window [anchor + Min, anchor + Max] (either side open).</summary>
public sealed record RelativeTime(string AnchorRef, CalendarOffset? Min, CalendarOffset? Max, string Path);

/// <summary>Which occurrences of an anchor group may serve as its date.</summary>
public enum AnchorOccurrence { Unspecified, First, Last, Any }

/// <summary>Which end of a period-valued fact dates it as an anchor.</summary>
public enum AnchorPoint { Start, End }

/// <summary>A signed ISO 8601 duration in calendar units (facts are dated to the day).</summary>
public readonly record struct CalendarOffset(int Years, int Months, int Days, bool Negative)
{
    public int AddTo(int day)
    {
        var sign = Negative ? -1 : 1;
        try
        {
            var date = Store.Days.ToDate(day).AddYears(sign * Years).AddMonths(sign * Months).AddDays(sign * Days);
            return Store.Days.From(date);
        }
        catch (ArgumentOutOfRangeException)
        {
            // Beyond the calendar: the window is open on that side.
            return Negative ? int.MinValue : int.MaxValue;
        }
    }

    public override string ToString()
    {
        var text = new StringBuilder(Negative ? "-P" : "P");
        if (Years != 0) text.Append(Years).Append('Y');
        if (Months != 0) text.Append(Months).Append('M');
        if (Days != 0 || (Years == 0 && Months == 0)) text.Append(Days).Append('D');
        return text.ToString();
    }
}
