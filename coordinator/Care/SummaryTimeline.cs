using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;

namespace Midia.Coordinator.Care;

/// <summary>
/// The sites' parts as one timeline, oldest first (undated last). An entry that several sites
/// hold identically (kind, system, code, date, value, unit, coded value) is shown once with every
/// source site. Within one site nothing is folded: the k-th copy at one site meets the k-th copy
/// at another, so each site's own entries are all still there.
/// </summary>
public static class SummaryTimeline
{
    /// <param name="parts">Each site's entries, the sites in registry order.</param>
    public static List<TimelineEntry> Merge(IEnumerable<(string Site, IReadOnlyList<SummaryEntry> Entries)> parts)
    {
        var timeline = new List<TimelineEntry>();
        var byKey = new Dictionary<Key, List<TimelineEntry>>();
        foreach (var (site, entries) in parts)
            foreach (var entry in entries)
            {
                var key = Key.Of(entry);
                if (!byKey.TryGetValue(key, out var same)) byKey[key] = same = [];
                var folded = same.FirstOrDefault(t => !t.Sites.Contains(site));
                if (folded is not null)
                {
                    folded.Sites.Add(site);
                    continue;
                }
                var added = new TimelineEntry { Entry = entry, Sites = { site } };
                same.Add(added);
                timeline.Add(added);
            }
        // Stable: entries of one date keep the first site's order.
        return [.. timeline.OrderBy(t => t.Entry.Date.Length == 0 ? "~" : t.Entry.Date, StringComparer.Ordinal)];
    }

    readonly record struct Key(string Kind, string System, string Code, string Date, double? Value, string Unit, string ValueSystem, string ValueCode)
    {
        public static Key Of(SummaryEntry e) =>
            new(e.Kind, e.System, e.Code, e.Date, e.HasValue ? e.Value : null, e.Unit, e.ValueSystem, e.ValueCode);
    }
}
