using System.Globalization;
using Midia.Node.Store;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Spectre.Console;

using Midia.Care;

namespace Midia.Cli.Care;

/// <summary>
/// How a patient summary looks to a clinician: first which sites answered and plainly what is
/// missing and why, then problems and staging on top, the trend of every numeric series, and one
/// chronological timeline of therapies, procedures, imaging and results. Sections without
/// entries are not drawn: one line says what no site recorded.
/// </summary>
public static class SummaryView
{
    public static void Write(IAnsiConsole console, SummaryReply reply)
    {
        console.Write(SitesTable(reply));
        var missing = SummarySection.Missing(reply).ToList();
        var answered = reply.Sites.Where(s => s.Status == SiteStatus.Ok).Select(s => s.Site).ToList();
        console.MarkupLine(answered.Count > 0
            ? $"shown: what {Markup.Escape(Join(answered))} shared"
            : "[red]no site shared anything for this patient[/]");
        if (missing.Count > 0)
            console.MarkupLine($"[yellow]not included[/]: {Markup.Escape(string.Join(", ", missing.Select(s => $"{s.Site} ({s.Status.Word()})")))}, for the reasons above");

        var entries = reply.Entries.ToList();
        var bySection = entries.ToLookup(e => SummarySection.Of(e.Entry));
        Section(console, SummarySection.Problems.Title, bySection[SummarySection.Problems], ["since", "problem", "code", "source"],
            t => [Date(t.Entry), t.Entry.Display, Code(t.Entry), Join(t.Sites)]);
        Section(console, SummarySection.Staging.Title, bySection[SummarySection.Staging], ["date", "finding", "result", "code", "source"],
            t => [Date(t.Entry), t.Entry.Display, Value(t.Entry), Code(t.Entry), Join(t.Sites)]);
        var trends = Trend.Of(entries);
        if (trends.Count > 0)
        {
            var table = Grid("result", "trend", "first", "last", "lowest", "highest", "values");
            foreach (var trend in trends)
                table.AddRow(Cell($"{trend.Display}{(Unit(trend.Unit) is { Length: > 0 } unit ? $" ({unit})" : "")}"), Cell(trend.Sparkline()), Cell(Point(trend.First)), Cell(Point(trend.Last)),
                    Cell(Point(trend.Min)), Cell(Point(trend.Max)), Cell(trend.Points.Count.ToString(CultureInfo.InvariantCulture)));
            Heading(console, "Trends");
            console.Write(table);
        }
        var timeline = entries.Where(t => SummarySection.Of(t.Entry) is var s && s != SummarySection.Problems && s != SummarySection.Staging)
            .OrderBy(t => t.Entry.Date.Length == 0).ThenBy(t => t.Entry.Date, StringComparer.Ordinal).ToList(); // undated last
        Section(console, "Timeline: therapies, procedures, imaging, results", timeline, ["date", "what", "entry", "code", "value", "source"],
            t => [Date(t.Entry), What(t.Entry), t.Entry.Display, Code(t.Entry), Value(t.Entry), Join(t.Sites)]);

        var empty = new[] { SummarySection.Problems, SummarySection.Medications, SummarySection.Results, SummarySection.Procedures }
            .Where(s => !bySection[s].Any()).Select(s => s.Title.ToLowerInvariant()).ToList();
        var nothing = empty.Count > 0
            ? $"nothing recorded for {Join(empty)} by {(answered.Count > 0 ? Join(answered) : "any site")}{(missing.Count > 0 ? " (the sites not included may hold more)" : "")}; "
            : "";
        console.MarkupLine($"[grey]{Markup.Escape(nothing)}allergies are not carried by this network[/]");
    }

    public static Table SitesTable(SummaryReply reply)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("site").AddColumn("status").AddColumn(new TableColumn("entries").RightAligned()).AddColumn("details");
        foreach (var site in reply.Sites)
            table.AddRow(Markup.Escape(site.Site), StatusMarkup(site.Status),
                site.Status == SiteStatus.Ok ? site.Entries.ToString(CultureInfo.InvariantCulture) : "",
                Markup.Escape(site.Status == SiteStatus.Ok ? $"{site.LatencyMicros / 1000.0:0.#} ms" : Why(site)));
        return table;
    }

    static string Why(SummarySite site) => site.Message.Length > 0 ? site.Message : SummarySection.Meaning(site.Status);

    static void Section(IAnsiConsole console, string title, IEnumerable<TimelineEntry> entries, string[] columns, Func<TimelineEntry, string[]> row)
    {
        var list = entries.ToList();
        if (list.Count == 0) return; // an empty section is said once, in the closing line
        var table = Grid(columns);
        foreach (var entry in list) table.AddRow(row(entry).Select(Cell).ToArray());
        Heading(console, title);
        console.Write(table);
    }

    static void Heading(IAnsiConsole console, string title)
    {
        console.WriteLine();
        console.MarkupLine($"[bold]{Markup.Escape(title)}[/]");
    }

    static Table Grid(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Minimal);
        foreach (var column in columns) table.AddColumn(column);
        return table;
    }

    static Markup Cell(string text) => new(Markup.Escape(text));

    static string Join(IEnumerable<string> items) => string.Join(", ", items);

    static string Date(SummaryEntry e) =>
        e.Date.Length == 0 ? "(no date)"
        : e.Kind == "medication" ? $"{e.Date} → {e.EndDate}".TrimEnd()
        : e.EndDate.Length > 0 && e.EndDate != e.Date ? $"{e.Date} → {e.EndDate}"
        : e.Date;

    static string What(SummaryEntry e) => e.Kind switch
    {
        "medication" => "therapy",
        "procedure" => "procedure",
        "imaging" => "imaging",
        "condition" => "problem",
        _ => "result",
    };

    public static string Value(SummaryEntry e) => EntryText.Value(e);

    public static string Number(double value) => EntryText.Number(value);

    static string Point((string Date, double Value) point) => $"{Number(point.Value)} ({point.Date})";

    public static string Unit(string unit) => EntryText.Unit(unit);

    public static string Code(SummaryEntry e) => EntryText.Code(e);

    static string StatusMarkup(SiteStatus status) => status switch
    {
        SiteStatus.Ok => "[green]ok[/]",
        SiteStatus.Timeout or SiteStatus.Unavailable or SiteStatus.NotShared => $"[yellow]{status.Word()}[/]",
        _ => $"[red]{status.Word()}[/]",
    };
}
