using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;

namespace Midia.Coordinator.Research;

/// <summary>
/// Adds up what the sites released — never anything else: the total is the sum of the released
/// site numbers, obfuscated if any part is. Sites below their threshold contribute nothing, and
/// a sum below <c>minTotal</c> is not shown (the MII feasibility portal does not return totals
/// below 3). Patients treated at several sites are counted once per site; the text says so.
/// </summary>
public static class CountAggregation
{
    public const long DefaultMinTotal = 3;

    public static CountTotal Total(IReadOnlyList<SiteResult> results, long minTotal = DefaultMinTotal, bool stratified = false)
    {
        if (stratified) return StratifiedTotal(results, minTotal);
        var ok = results.Where(r => r.Status == SiteStatus.Ok).ToList();
        var cohort = ok.Where(r => r.Strata.Count == 0 && r.Count is not null).ToList();
        var counted = cohort.Where(r => r.Count.HasValue).ToList();
        var below = cohort.Where(r => !r.Count.HasValue).ToList();
        var missing = results.Where(r => r.Status != SiteStatus.Ok).ToList();
        var total = new CountTotal
        {
            SitesCounted = counted.Count,
            SitesBelowThreshold = below.Count,
            SitesMissing = missing.Count,
            MinTotal = minTotal,
        };
        var sum = counted.Sum(r => r.Count.Value);
        total.Obfuscated = counted.Any(r => r.Count.Obfuscated);
        if (counted.Count > 0 && sum >= minTotal) total.Value = sum;
        else total.BelowThreshold = below.Count > 0 || counted.Count > 0;

        total.Explanation = Explain(total, counted, below, missing, sum, minTotal);
        return total;
    }

    /// <summary>Stratified counts: sums per stratum only (no overall number); each stratum follows the same rules as a total.</summary>
    static CountTotal StratifiedTotal(IReadOnlyList<SiteResult> results, long minTotal)
    {
        var ok = results.Where(r => r.Status == SiteStatus.Ok).ToList();
        var counted = ok.Where(r => r.Strata.Any(s => s.Count is { HasValue: true })).ToList();
        var below = ok.Except(counted).ToList();
        var missing = results.Where(r => r.Status != SiteStatus.Ok).ToList();
        var total = new CountTotal { SitesCounted = counted.Count, SitesBelowThreshold = below.Count, SitesMissing = missing.Count, MinTotal = minTotal };
        total.Strata.AddRange(StratumTotals(ok, minTotal));
        total.Obfuscated = total.Strata.Any(s => s.Obfuscated);
        total.BelowThreshold = total.Strata.Count > 0 && total.Strata.All(s => s.BelowThreshold);
        var parts = new List<string>();
        if (counted.Count == 0) parts.Add(ok.Count > 0 ? "no site released a number in any stratum" : "no site answered with a number");
        else
        {
            parts.Add($"per-stratum sums of {(counted.Count == 1 ? "1 site's" : $"{counted.Count} sites'")} released {(total.Obfuscated ? "obfuscated " : "")}counts; " +
                $"a stratum below a site's threshold contributes nothing from that site; sums below {minTotal} are not shown");
            if (counted.Count > 1) parts.Add("patients treated at several sites are counted once per site");
        }
        if (below.Count > 0) parts.Add($"{Sites(below.Count)} with every stratum below threshold ({string.Join(", ", below.Select(b => b.Site))})");
        if (missing.Count > 0)
            parts.Add($"{Sites(missing.Count)} without a count ({string.Join(", ", missing.Select(m => $"{m.Site}: {m.Status.Word()}"))})");
        total.Explanation = string.Join("; ", parts);
        return total;
    }

    static IEnumerable<StratumTotal> StratumTotals(List<SiteResult> sites, long minTotal)
    {
        var byKey = new SortedDictionary<string, (Google.Protobuf.Collections.MapField<string, string> Key, List<ReleasedCount> Counts)>(StringComparer.Ordinal);
        foreach (var stratum in sites.SelectMany(s => s.Strata))
        {
            var name = string.Join("|", stratum.Key.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key}={k.Value}"));
            if (!byKey.TryGetValue(name, out var entry)) byKey[name] = entry = (stratum.Key, []);
            entry.Counts.Add(stratum.Count ?? new ReleasedCount { BelowThreshold = true });
        }
        foreach (var (_, (key, counts)) in byKey)
        {
            var released = counts.Where(c => c.HasValue).ToList();
            var sum = released.Sum(c => c.Value);
            var total = new StratumTotal { Obfuscated = released.Any(c => c.Obfuscated) };
            total.Key.Add(key);
            if (released.Count > 0 && sum >= minTotal) total.Value = sum;
            else total.BelowThreshold = true;
            yield return total;
        }
    }

    static string Explain(CountTotal total, List<SiteResult> counted, List<SiteResult> below, List<SiteResult> missing, long sum, long minTotal)
    {
        var parts = new List<string>();
        if (counted.Count == 0)
            parts.Add(below.Count > 0 ? "no site released a number" : "no site answered with a number");
        else
        {
            var treatments = counted.Where(r => r.Count.Obfuscated).Select(r => r.Count.Treatment).Where(t => t.Length > 0).Distinct().ToList();
            var how = !total.Obfuscated ? "exact counts"
                : counted.All(r => r.Count.Obfuscated) ? "obfuscated counts" : "counts (some obfuscated)";
            var text = counted.Count == 1 ? $"1 site's {how[..^1]}" : $"sum of {counted.Count} sites' {how}";
            if (treatments.Count == 1) text += $" ({treatments[0]})";
            if (counted.Count > 1) text += "; patients treated at several sites are counted once per site";
            parts.Add(text);
            if (total.BelowThreshold) parts.Add($"the sum is below {minTotal} and is not shown");
        }
        if (below.Count > 0)
            parts.Add($"{Sites(below.Count)} below {(below.Count == 1 ? "its" : "their")} threshold ({string.Join(", ", below.Select(b => b.Site))}) contribute{(below.Count == 1 ? "s" : "")} nothing");
        if (missing.Count > 0)
            parts.Add($"{Sites(missing.Count)} without a count ({string.Join(", ", missing.Select(m => $"{m.Site}: {m.Status.Word()}"))})");
        return string.Join("; ", parts);
    }

    static string Sites(int n) => n == 1 ? "1 site" : $"{n} sites";

}
