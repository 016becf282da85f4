using System.Text.RegularExpressions;

namespace Midia.Care.Codes;

/// <summary>
/// A stretch of codes of one system, in ordinal order: exactly <see cref="From"/> when
/// <see cref="Until"/> is null, otherwise every code c with From ≤ c &lt; Until. A site database
/// answers each span with one index range scan.
/// </summary>
public readonly record struct CodeSpan(string From, string? Until)
{
    public static CodeSpan Exactly(string code) => new(code, null);

    /// <summary>Every code that starts with the prefix.</summary>
    public static CodeSpan StartingWith(string prefix) => new(prefix, Successor(prefix));

    /// <summary>Every code whose first <c>low.Length</c> characters lie between low and high (inclusive).</summary>
    public static CodeSpan Between(string low, string high) => new(low, Successor(high));

    public bool Contains(string code) =>
        Until is null ? code == From : string.CompareOrdinal(code, From) >= 0 && string.CompareOrdinal(code, Until) < 0;

    /// <summary>The least string greater than every string starting with prefix (C50 → C51); null if there is none.</summary>
    public static string? Successor(string prefix)
    {
        var chars = prefix.ToCharArray();
        for (int i = chars.Length - 1; i >= 0; i--)
        {
            if (chars[i] == char.MaxValue) continue;
            chars[i]++;
            return new string(chars, 0, i + 1);
        }
        return null;
    }
}

/// <summary>
/// What a code in a query stands for: the code and everything under it, read from the code itself
/// wherever the classification allows, so no terminology server is needed (docs/CODES.md).
/// <list type="bullet">
/// <item>ICD-10-GM and ICD-10-WHO: a chapter (I–XXII or 1–22) is its range of categories, a group
/// (C00-C97, C50-C50) its range, any other code a prefix (C50 → C50.4 → C50.41; C50.- is C50).</item>
/// <item>OPS: a chapter (1, 3, 5, 6, 8, 9) is every code in it, a group (5-85...5-88) its range,
/// any other code a prefix (8-52 → 8-522.91).</item>
/// <item>ATC: a level (L, L04, L04A, L04AA) is every substance under it; a substance WHO moved keeps
/// both codes (<see cref="AtcRevisions"/>), and a group that holds either code holds both.</item>
/// <item>SNOMED CT: the code and its descendants in <see cref="SnomedSubsumption"/>, a small table
/// for the codes the network uses; other SNOMED codes stand for themselves.</item>
/// <item>Everything else (LOINC, the network's own systems): the code itself.</item>
/// </list>
/// </summary>
public static partial class CodeHierarchy
{
    public const string Icd10Gm = Vocabulary.Icd10Gm;
    public const string Icd10Who = Vocabulary.Icd10Who;
    public const string Ops = Vocabulary.Ops;
    public const string Atc = Vocabulary.Atc;
    public const string Snomed = Vocabulary.Snomed;

    /// <summary>
    /// Drugs WHO re-coded, (old, new): the MS therapies in 2024 and trastuzumab in 2022 (DOMAIN.md).
    /// Data carry both codes, so a query for either finds both.
    /// </summary>
    public static readonly IReadOnlyList<(string Old, string New)> AtcRevisions =
    [
        ("L04AA36", "L04AG08"), // ocrelizumab
        ("L04AA23", "L04AG03"), // natalizumab
        ("L04AA34", "L04AG06"), // alemtuzumab
        ("L04AA27", "L04AE01"), // fingolimod
        ("L04AA42", "L04AE03"), // siponimod
        ("L04AA31", "L04AK02"), // teriflunomide
        ("N07XX09", "L04AX07"), // dimethyl fumarate
        ("L01XC03", "L01FD01"), // trastuzumab
    ];

    /// <summary>The other ATC code of a re-coded drug, or null.</summary>
    public static string? AtcPartner(string code)
    {
        foreach (var (old, @new) in AtcRevisions)
        {
            if (code == old) return @new;
            if (code == @new) return old;
        }
        return null;
    }

    /// <summary>The spans of stored codes a query code of the (canonical) system matches.</summary>
    public static IReadOnlyList<CodeSpan> Spans(string system, string code)
    {
        switch (system)
        {
            case Icd10Gm or Icd10Who:
            {
                if (code.EndsWith(".-", StringComparison.Ordinal) && code.Length > 2) code = code[..^2];
                if (IcdChapter(code) is { } chapter) return [CodeSpan.Between(chapter.From, chapter.To)];
                if (IcdGroup().Match(code) is { Success: true } group) return [CodeSpan.Between(group.Groups[1].Value, group.Groups[2].Value)];
                return [CodeSpan.StartingWith(code)];
            }
            case Ops:
            {
                if (code.Length == 1 && OpsChapters.Contains(code[0])) return [CodeSpan.StartingWith(code + "-")];
                if (OpsGroup().Match(code) is { Success: true } group && group.Groups[1].Length == group.Groups[2].Length)
                    return [CodeSpan.Between(group.Groups[1].Value, group.Groups[2].Value)];
                return [CodeSpan.StartingWith(code)];
            }
            case Atc:
            {
                List<CodeSpan> spans = [CodeSpan.StartingWith(code)];
                // A moved substance stays in both groups: the group of its old code finds the new code and vice versa.
                foreach (var (old, @new) in AtcRevisions)
                {
                    if (old.StartsWith(code, StringComparison.Ordinal) && !@new.StartsWith(code, StringComparison.Ordinal)) spans.Add(CodeSpan.Exactly(@new));
                    if (@new.StartsWith(code, StringComparison.Ordinal) && !old.StartsWith(code, StringComparison.Ordinal)) spans.Add(CodeSpan.Exactly(old));
                }
                return spans;
            }
            case Snomed:
                return [CodeSpan.Exactly(code), .. SnomedSubsumption.Descendants(code).Select(CodeSpan.Exactly)];
            default:
                return [CodeSpan.Exactly(code)];
        }
    }

    /// <summary>Whether a stored code falls under a query code (the same test the spans express).</summary>
    public static bool Matches(string system, string queryCode, string storedCode) =>
        Spans(system, queryCode).Any(s => s.Contains(storedCode));

    // ICD-10 chapters as ranges of three-character categories (ICD-10-GM 2024; the WHO edition has the same bounds).
    static readonly (string From, string To)[] IcdChapters =
    [
        ("A00", "B99"), ("C00", "D48"), ("D50", "D90"), ("E00", "E90"), ("F00", "F99"), ("G00", "G99"),
        ("H00", "H59"), ("H60", "H95"), ("I00", "I99"), ("J00", "J99"), ("K00", "K93"), ("L00", "L99"),
        ("M00", "M99"), ("N00", "N99"), ("O00", "O99"), ("P00", "P96"), ("Q00", "Q99"), ("R00", "R99"),
        ("S00", "T98"), ("V01", "Y84"), ("Z00", "Z99"), ("U00", "U99"),
    ];

    static readonly string[] Roman =
        ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV", "XVI", "XVII", "XVIII", "XIX", "XX", "XXI", "XXII"];

    /// <summary>The category range of an ICD-10 chapter written as a Roman numeral (II) or its number (2, 02); null otherwise.</summary>
    public static (string From, string To)? IcdChapter(string code)
    {
        var roman = Array.IndexOf(Roman, code);
        if (roman >= 0) return IcdChapters[roman];
        if (code.Length is 1 or 2 && code.All(char.IsAsciiDigit) && int.Parse(code, System.Globalization.CultureInfo.InvariantCulture) is >= 1 and <= 22 and var n)
            return IcdChapters[n - 1];
        return null;
    }

    static readonly HashSet<char> OpsChapters = ['1', '3', '5', '6', '8', '9'];

    [GeneratedRegex(@"^([A-Z][0-9]{2})-([A-Z][0-9]{2})$")]
    private static partial Regex IcdGroup();

    [GeneratedRegex(@"^([0-9]-[0-9a-z]{2,3})\.\.\.([0-9]-[0-9a-z]{2,3})$")]
    private static partial Regex OpsGroup();
}
