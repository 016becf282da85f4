using System.Text;

namespace Midia.Node.Query;

/// <summary>
/// Unit spellings that mean the same unit. UCUM is case-sensitive except for the litre, which it
/// defines both as `l` and `L`; so `ng/mL` = `ng/ml`, `mmol/L` = `mmol/l`, but `mg` is never `Mg`.
/// Any other difference in spelling is a different unit and does not match.
/// </summary>
public static class Units
{
    const string LitrePrefixes = "munpfdckh";

    /// <summary>The spelling the canonical form uses: every litre atom upper-case.</summary>
    public static string Canonical(string unit)
    {
        var text = unit.Trim().ToCharArray();
        foreach (var position in LitrePositions(unit.Trim())) text[position] = 'L';
        return new string(text);
    }

    /// <summary>Every spelling of a canonical unit that data may carry (2^k for k litre atoms).</summary>
    public static IReadOnlyList<string> Spellings(string canonical)
    {
        var positions = LitrePositions(canonical);
        var spellings = new List<string>();
        for (int mask = 0; mask < 1 << positions.Count; mask++)
        {
            var text = new StringBuilder(canonical);
            for (int i = 0; i < positions.Count; i++) text[positions[i]] = (mask & (1 << i)) != 0 ? 'l' : 'L';
            spellings.Add(text.ToString());
        }
        return spellings;
    }

    /// <summary>Indexes of the litre letter in each term (split at / and . outside {annotations})
    /// that is a litre: `l`/`L` alone or after a one-letter metric prefix, optionally with an exponent.</summary>
    static List<int> LitrePositions(string unit)
    {
        var positions = new List<int>();
        int depth = 0, start = 0;
        for (int i = 0; i <= unit.Length; i++)
        {
            char c = i < unit.Length ? unit[i] : '/';
            if (c == '{') depth++;
            else if (c == '}') depth = Math.Max(0, depth - 1);
            else if (depth == 0 && (c == '/' || c == '.'))
            {
                var term = unit[start..i];
                var atom = term.TrimEnd('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '-', '+');
                if (atom is "l" or "L") positions.Add(start);
                else if (atom.Length == 2 && LitrePrefixes.Contains(atom[0]) && atom[1] is 'l' or 'L') positions.Add(start + 1);
                start = i + 1;
            }
        }
        return positions;
    }
}
