namespace Midia.Bench;

/// <summary>The one percentile every benchmark reports: nearest rank (the smallest value with at least p % of the sample at or below it).</summary>
static class Percentile
{
    public static double Of(IEnumerable<double> sample, double percent)
    {
        var sorted = sample.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
