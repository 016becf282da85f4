using System.Text.Json;
using Midia.Protos.Coordinator.V1;

namespace Midia.Portal.Research;

/// <summary>
/// A count as the browser sees it: one line of JSON per coordinator event (started, each site as
/// it answers, total), sent as server-sent events so each site's result shows the moment it arrives.
/// </summary>
public static class CountEvents
{
    public static object ToJson(CountEvent e) => e.EventCase switch
    {
        CountEvent.EventOneofCase.Started => new { kind = "started", sites = e.Started.Sites.ToArray(), fromHistory = e.Started.FromHistory, queryType = e.Started.QueryType },
        CountEvent.EventOneofCase.Site => new
        {
            kind = "site", site = e.Site.Site, status = e.Site.Status.Word(), message = e.Site.Message,
            count = e.Site.Count is { } c ? Released(c.HasValue ? c.Value : null, c.BelowThreshold, c.Treatment) : null,
            strata = e.Site.Strata.Select(s => new { key = Key(s.Key), count = s.Count is { } sc ? Released(sc.HasValue ? sc.Value : null, sc.BelowThreshold, sc.Treatment) : null }).ToArray(),
        },
        CountEvent.EventOneofCase.Total => new
        {
            kind = "total", value = e.Total.HasValue ? e.Total.Value : (long?)null, belowThreshold = e.Total.BelowThreshold, explanation = e.Total.Explanation,
            strata = e.Total.Strata.Select(s => new { key = Key(s.Key), value = s.HasValue ? s.Value : (long?)null, belowThreshold = s.BelowThreshold }).ToArray(),
        },
        _ => new { kind = "unknown" },
    };

    public static string Sse(CountEvent e) => "data: " + JsonSerializer.Serialize(ToJson(e)) + "\n\n";

    public static string Key(IDictionary<string, string> key) => string.Join(", ", key.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key} {k.Value}"));

    static object Released(long? value, bool below, string treatment) => new { value, belowThreshold = below, treatment };
}
