using System.Security.Cryptography;
using System.Text;

namespace Midia.Node.Query;

/// <summary>
/// A parsed, validated and canonicalised CCDL cohort definition. Inclusion is an AND of OR-groups,
/// exclusion an OR of AND-groups; both are kept in canonical order (criteria and groups sorted by
/// their canonical JSON, duplicates removed), so equal questions compare and hash equal.
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

    /// <summary>Strict parse: unknown fields, wrong JSON types and constructs the node cannot
    /// evaluate exactly throw <see cref="CcdlException"/> with the JSON path of the offending part.</summary>
    public static CohortQuery Parse(string json) => CcdlReader.Read(json);

    /// <summary>The researcher's title for the query; not part of the canonical form.</summary>
    public string? Display { get; }

    /// <summary>AND of groups, each an OR of criteria. Empty: every patient.</summary>
    public IReadOnlyList<IReadOnlyList<Criterion>> Inclusion { get; }

    /// <summary>OR of groups, each an AND of criteria.</summary>
    public IReadOnlyList<IReadOnlyList<Criterion>> Exclusion { get; }

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

/// <summary>What a criterion is evaluated against: coded facts, or the patient's demographics.</summary>
public enum CriterionKind { Facts, Sex, Age }

/// <summary>One CCDL criterion after canonicalisation. Path is where it stood in the query as
/// written, for refusals found only at evaluation time (an attribute the data does not carry).</summary>
public sealed record Criterion(
    CriterionKind Kind,
    IReadOnlyList<TermCode> TermCodes,
    ValueFilter? Value,
    IReadOnlyList<AttributeFilter> Attributes,
    TimeRestriction? Time,
    string Path);

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

/// <summary>Inclusive bounds in Days; null = open.</summary>
public sealed record TimeRestriction(int? After, int? Before);
