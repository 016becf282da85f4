namespace Midia.Care.Codes;

/// <summary>
/// SNOMED CT subsumption for the codes the network uses: which concepts a query concept includes.
/// A small shipped table, not a terminology server.
///
/// Source: SNOMED CT International Edition, is-a (116680003) relationships of the concepts below as
/// the SNOMED International browser shows them (releases 2024-2025), transcribed by hand for the
/// concepts the network's data and the MII core data set use (multiple sclerosis and its courses,
/// breast laterality, the MII biobank module's common sample types). Relationships among
/// these concepts only: a child not listed here is not found under its parent — add it to the table.
/// </summary>
public static class SnomedSubsumption
{
    /// <summary>(parent, child, what): is-a edges, direct or through concepts the table does not list.</summary>
    public static readonly IReadOnlyList<(string Parent, string Child, string Display)> Edges =
    [
        ("24700007", "426373005", "Relapsing remitting multiple sclerosis"),
        ("24700007", "425500002", "Secondary progressive multiple sclerosis"),
        ("24700007", "428700003", "Primary progressive multiple sclerosis"),
        ("76752008", "80248007", "Left breast structure"),
        ("76752008", "73056007", "Right breast structure"),
        ("123038009", "119297000", "Blood specimen"),
        ("119297000", "119364003", "Serum specimen"),
        ("119297000", "119361006", "Plasma specimen"),
        ("123038009", "119376003", "Tissue specimen"),
        ("123038009", "122575003", "Urine specimen"),
    ];

    /// <summary>The concepts of the table, parents included, with their preferred terms.</summary>
    public static readonly IReadOnlyDictionary<string, string> Displays = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["24700007"] = "Multiple sclerosis",
        ["76752008"] = "Breast structure",
        ["123038009"] = "Specimen",
        ["119297000"] = "Blood specimen",
        ["119364003"] = "Serum specimen",
        ["119361006"] = "Plasma specimen",
        ["119376003"] = "Tissue specimen",
        ["122575003"] = "Urine specimen",
        ["426373005"] = "Relapsing remitting multiple sclerosis",
        ["425500002"] = "Secondary progressive multiple sclerosis",
        ["428700003"] = "Primary progressive multiple sclerosis",
        ["80248007"] = "Left breast structure",
        ["73056007"] = "Right breast structure",
    };

    static readonly Dictionary<string, string[]> Closure = BuildClosure();

    /// <summary>Every concept below the code (transitively), not the code itself; empty for a code the table does not know.</summary>
    public static IReadOnlyList<string> Descendants(string code) => Closure.TryGetValue(code, out var below) ? below : [];

    static Dictionary<string, string[]> BuildClosure()
    {
        var children = Edges.GroupBy(e => e.Parent).ToDictionary(g => g.Key, g => g.Select(e => e.Child).ToList());
        var closure = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var parent in children.Keys)
        {
            var seen = new SortedSet<string>(StringComparer.Ordinal);
            var todo = new Stack<string>(children[parent]);
            while (todo.TryPop(out var next))
                if (seen.Add(next) && children.TryGetValue(next, out var more))
                    foreach (var c in more) todo.Push(c);
            closure[parent] = [.. seen];
        }
        return closure;
    }
}
