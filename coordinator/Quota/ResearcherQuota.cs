using System.Globalization;
using Midia.Coordinator.History;
using Midia.Protos.Coordinator.V1;
using Grpc.Core;

namespace Midia.Coordinator.Quota;

/// <summary>
/// Counts each researcher's federated queries against the quota windows, from the query history
/// itself (one source of truth, survives restarts). Admission and recording happen under one
/// lock, so two parallel queries cannot both take the last slot.
/// </summary>
public sealed class ResearcherQuota(QueryHistory history, QuotaOptions options, TimeProvider time)
{
    readonly Lock admission = new();

    sealed record Window(string Name, TimeSpan Length, int Limit, bool Hard);

    IEnumerable<Window> Windows()
    {
        yield return new Window("per minute", TimeSpan.FromMinutes(1), options.PerMinute, false);
        yield return new Window("per 7 days", TimeSpan.FromDays(7), options.Per7Days, true);
    }

    /// <summary>Admits one query (then runs <paramref name="record"/> while still holding the slot) or throws RESOURCE_EXHAUSTED.</summary>
    public void Admit(string researcher, Action<DateTimeOffset> record)
    {
        lock (admission)
        {
            var now = time.GetUtcNow();
            foreach (var window in Windows())
            {
                var asked = history.AskedSince(researcher, now - window.Length);
                if (asked.Count < window.Limit) continue;
                var freesAt = asked[asked.Count - window.Limit] + window.Length;
                var wait = freesAt - now;
                throw new RpcException(new Status(StatusCode.ResourceExhausted,
                    $"quota exceeded: {window.Limit} queries {window.Name} per researcher{(window.Hard ? " (hard limit)" : "")}; " +
                    $"the next query is possible at {freesAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC (in {Duration(wait)}); " +
                    "an identical recent query is answered from history at no cost"));
            }
            record(now);
        }
    }

    public QuotaReply Describe(string researcher)
    {
        var now = time.GetUtcNow();
        var reply = new QuotaReply { Researcher = researcher, IdenticalQueryWindowSeconds = (long)options.IdenticalQueryWindow.TotalSeconds };
        foreach (var window in Windows())
        {
            var asked = history.AskedSince(researcher, now - window.Length);
            reply.Windows.Add(new QuotaWindow
            {
                Name = window.Name,
                WindowSeconds = (long)window.Length.TotalSeconds,
                Limit = window.Limit,
                Used = asked.Count,
                FreesAtUnixMs = asked.Count == 0 ? 0 : (asked[Math.Max(0, asked.Count - window.Limit)] + window.Length).ToUnixTimeMilliseconds(),
                Hard = window.Hard,
            });
        }
        return reply;
    }

    static string Duration(TimeSpan span) =>
        span.TotalSeconds < 90 ? $"{Math.Max(1, (int)Math.Ceiling(span.TotalSeconds))} s"
        : span.TotalMinutes < 90 ? $"{(int)Math.Ceiling(span.TotalMinutes)} min"
        : span.TotalHours < 48 ? $"{(int)Math.Ceiling(span.TotalHours)} h"
        : $"{(int)Math.Ceiling(span.TotalDays)} days";
}
