using Midia.Protos.Coordinator.V1;

namespace Midia.Care;

/// <summary>
/// A numeric series of one result (same code system, code and unit) with two or more dated
/// values — PSA, CA 15-3, EDSS — and its compact picture: one sparkline glyph per value.
/// </summary>
public sealed record Trend(string System, string Code, string Display, string Unit, IReadOnlyList<(string Date, double Value)> Points)
{
    public const string Glyphs = "▁▂▃▄▅▆▇█";

    public (string Date, double Value) First => Points[0];
    public (string Date, double Value) Last => Points[^1];
    public (string Date, double Value) Min => Points.MinBy(p => p.Value);
    public (string Date, double Value) Max => Points.MaxBy(p => p.Value);

    /// <summary>Lowest value ▁, highest █, linear in between; a flat series is a flat middle line.</summary>
    public string Sparkline()
    {
        double min = Min.Value, max = Max.Value;
        return string.Concat(Points.Select(p => max == min ? Glyphs[3] : Glyphs[(int)Math.Round((p.Value - min) / (max - min) * (Glyphs.Length - 1))]));
    }

    /// <summary>Every observation code with at least two dated numeric values, in the order of its first value.</summary>
    public static IReadOnlyList<Trend> Of(IEnumerable<TimelineEntry> timeline) =>
        [.. timeline.Select(t => t.Entry)
            .Where(e => e.Kind == "observation" && e.HasValue && e.Date.Length > 0)
            .GroupBy(e => (e.System, e.Code, e.Unit))
            .Select(g => new Trend(g.Key.System, g.Key.Code, g.Select(e => e.Display).FirstOrDefault(d => d.Length > 0) ?? g.Key.Code, g.Key.Unit,
                [.. g.OrderBy(e => e.Date, StringComparer.Ordinal).Select(e => (e.Date, e.Value))]))
            .Where(t => t.Points.Count >= 2)
            .OrderBy(t => t.First.Date, StringComparer.Ordinal)];
}
