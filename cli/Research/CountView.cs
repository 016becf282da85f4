using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Spectre.Console;

namespace Midia.Cli.Research;

/// <summary>How a count looks to a person: a per-site table that fills in as sites answer, then the total in plain words.</summary>
public static class CountView
{
    public static async Task<CountOutcome> ShowLiveAsync(IAsyncEnumerable<CountEvent> events)
    {
        var outcome = new CountOutcome(new CountStarted(), [], null);
        await AnsiConsole.Live(Table(outcome)).AutoClear(false).StartAsync(async live =>
        {
            await foreach (var e in events)
            {
                outcome = outcome.With(e);
                live.UpdateTarget(Table(outcome));
            }
        });
        return outcome;
    }

    public static Table Table(CountOutcome outcome)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("site").AddColumn("status").AddColumn(new TableColumn("count").RightAligned()).AddColumn("details");
        foreach (var id in outcome.Started.Sites)
        {
            var result = outcome.Sites.FirstOrDefault(s => s.Site == id);
            if (result is null) { table.AddRow(Markup.Escape(id), "[grey]asking…[/]", "", ""); continue; }
            var (count, details) = Describe(result);
            table.AddRow(Markup.Escape(id), StatusMarkup(result.Status), Markup.Escape(count), Markup.Escape(details));
        }
        return table;
    }

    public static void WriteTotal(CountOutcome outcome)
    {
        if (outcome.Started.FromHistory)
            AnsiConsole.MarkupLine($"[grey]answered from history: the identical query {Markup.Escape(outcome.Started.QueryId)} of {DateTimeOffset.FromUnixTimeMilliseconds(outcome.Started.AskedAtUnixMs):yyyy-MM-dd HH:mm} UTC (no quota used)[/]");
        if (outcome.Total is not { } total) { AnsiConsole.MarkupLine("[red]no total: the coordinator ended the query early[/]"); return; }
        var value = total.Strata.Count > 0 || outcome.Started.QueryType == "stratified-count" ? "per stratum"
            : total.HasValue ? $"{(total.Obfuscated ? "≈ " : "")}{total.Value}"
            : total.BelowThreshold ? $"not shown (fewer than {Math.Max(total.MinTotal, 1)}, or every site below its threshold)"
            : "none (no site answered with a number)";
        AnsiConsole.MarkupLine($"[bold]total: {Markup.Escape(value)}[/]");
        AnsiConsole.MarkupLine($"  {Markup.Escape(total.Explanation)}");
        foreach (var stratum in total.Strata)
        {
            var key = string.Join(", ", stratum.Key.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key} {k.Value}"));
            var text = stratum.HasValue ? $"{(stratum.Obfuscated ? "≈ " : "")}{stratum.Value}" : "below threshold";
            AnsiConsole.MarkupLine($"  {Markup.Escape(key)}: {Markup.Escape(text)}");
        }
    }

    static (string Count, string Details) Describe(SiteResult result)
    {
        if (result.Status != SiteStatus.Ok) return ("", result.Message);
        var ms = $"{result.LatencyMicros / 1000.0:0.#} ms";
        if (result.Count is null)
            return ($"{result.Strata.Count(s => s.Count is { HasValue: true })} of {result.Strata.Count} strata released", ms);
        return result.Count switch
        {
            { HasValue: true } c => ($"{(c.Obfuscated ? "≈ " : "")}{c.Value}", $"{(c.Treatment.Length > 0 ? c.Treatment : c.Obfuscated ? "obfuscated" : "exact")}; {ms}"),
            { } c => (c.Threshold > 0 ? $"< {c.Threshold}" : "below threshold", $"fewer than the site's threshold, not released; {ms}"),
            null => ("", ms),
        };
    }

    static string StatusMarkup(SiteStatus status) => status switch
    {
        SiteStatus.Ok => "[green]ok[/]",
        SiteStatus.Timeout => "[yellow]timeout[/]",
        SiteStatus.Unavailable => "[yellow]unavailable[/]",
        SiteStatus.NotApproved => "[red]not_approved[/]",
        SiteStatus.Refused => "[red]refused[/]",
        _ => "[red]error[/]",
    };
}
