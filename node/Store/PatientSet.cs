using System.Numerics;

namespace Midia.Node.Store;

/// <summary>
/// A set of patients as a dense bitmap over internal patient numbers (pid). Criteria, consent and
/// the usage ledger all meet here: set algebra over a million patients is a few thousand word ops.
/// </summary>
public sealed class PatientSet
{
    readonly ulong[] words;

    public PatientSet(long maxPid) => words = new ulong[(maxPid >> 6) + 1];
    PatientSet(ulong[] words) => this.words = words;

    /// <summary>A set over the given words (bit i of word w is pid 64w + i); the set owns the array.</summary>
    internal static PatientSet FromWords(ulong[] words) => new(words);

    /// <summary>The bitmap itself, for encoders that must not enumerate a million members one by one.</summary>
    internal ReadOnlySpan<ulong> Words => words;

    public long Capacity => (long)words.Length << 6;

    public void Add(long pid) => words[pid >> 6] |= 1UL << (int)(pid & 63);
    public bool Contains(long pid) => pid >= 0 && pid < Capacity && (words[pid >> 6] & (1UL << (int)(pid & 63))) != 0;

    public long Count()
    {
        long n = 0;
        foreach (var w in words) n += BitOperations.PopCount(w);
        return n;
    }

    public PatientSet Clone() => new((ulong[])words.Clone());

    public void IntersectWith(PatientSet other) { for (int i = 0; i < words.Length; i++) words[i] &= i < other.words.Length ? other.words[i] : 0; }
    public void UnionWith(PatientSet other) { for (int i = 0; i < Math.Min(words.Length, other.words.Length); i++) words[i] |= other.words[i]; }
    public void ExceptWith(PatientSet other) { for (int i = 0; i < Math.Min(words.Length, other.words.Length); i++) words[i] &= ~other.words[i]; }

    public IEnumerable<long> Members()
    {
        for (int i = 0; i < words.Length; i++)
        {
            var w = words[i];
            while (w != 0)
            {
                int bit = BitOperations.TrailingZeroCount(w);
                yield return ((long)i << 6) + bit;
                w &= w - 1;
            }
        }
    }
}
