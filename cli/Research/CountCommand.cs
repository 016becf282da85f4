using System.CommandLine;
using Midia.Protos.Coordinator.V1;
using Midia.Hosting;
using Spectre.Console;

namespace Midia.Cli.Research;

/// <summary>`midia count QUERY.json [--project P] [--stratify sex,age-band] [--json]`: a federated cohort count.</summary>
public static class CountCommand
{
    public static Command Command()
    {
        var file = new Argument<string>("QUERY.json") { Description = "The CCDL structured query (the JSON the MII feasibility portal sends)" };
        var project = new Option<string?>("--project") { Description = "The research project this query belongs to" };
        var stratify = new Option<string?>("--stratify") { Description = "Stratified count by sex, age-band and/or year, comma-separated" };
        var json = new Option<bool>("--json") { Description = "Print one JSON document (docs/INTERFACE.md) instead of the table" };
        var command = new Command("count", "Count the patients matching a CCDL query at every site; each site's status, then the total") { file, project, stratify, json };
        var connection = new CoordinatorConnection().AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path)) throw new CommandException($"query file '{path}' not found");
            var ccdl = await File.ReadAllTextAsync(path, cancellationToken);
            try { using var _ = System.Text.Json.JsonDocument.Parse(ccdl); }
            catch (System.Text.Json.JsonException e)
            {
                throw new CommandException($"{path}:{e.LineNumber + 1}:{e.BytePositionInLine + 1}: not valid JSON: {e.Message.Split(" Path:")[0].Split(" LineNumber:")[0].TrimEnd('.')}");
            }
            var request = new CountRequest { CcdlJson = ccdl, Project = parse.GetValue(project) ?? "" };
            if (parse.GetValue(stratify) is { } strata)
                request.StratifyBy.AddRange(strata.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
            using var session = connection.Open(parse);
            var events = session.StreamAsync((s, o) => s.Research.Count(request, o), cancellationToken);
            var outcome = parse.GetValue(json) || Console.IsOutputRedirected
                ? await CountOutcome.CollectAsync(events)
                : await CountView.ShowLiveAsync(events);
            if (parse.GetValue(json))
            {
                using var stdout = Console.OpenStandardOutput();
                using (var writer = CountJson.Stdout(stdout))
                    CountJson.Write(writer, outcome.Started.QueryId, outcome.Total, outcome.Sites, request.StratifyBy.Count > 0);
                stdout.WriteByte((byte)'\n');
            }
            else
            {
                if (Console.IsOutputRedirected) AnsiConsole.Write(CountView.Table(outcome));
                CountView.WriteTotal(outcome);
            }
            // docs INTERFACE.md: a count no site answered is a failure (the JSON above still says why, site by site).
            if (!outcome.Sites.Any(s => s.Status == SiteStatus.Ok))
                throw new CommandException(outcome.Sites.Count == 0
                    ? "no site answered: the coordinator lists no sites"
                    : $"no site answered ok ({string.Join(", ", outcome.Sites.Select(s => $"{s.Site}: {s.Status.Word()}"))})");
            return 0;
        });
        return command;
    }
}

/// <summary>What one Count stream delivered.</summary>
public sealed record CountOutcome(CountStarted Started, List<SiteResult> Sites, CountTotal? Total)
{
    public static async Task<CountOutcome> CollectAsync(IAsyncEnumerable<CountEvent> events)
    {
        var outcome = new CountOutcome(new CountStarted(), [], null);
        await foreach (var e in events) outcome = outcome.With(e);
        return outcome;
    }

    public CountOutcome With(CountEvent e) => e.EventCase switch
    {
        CountEvent.EventOneofCase.Started => this with { Started = e.Started },
        CountEvent.EventOneofCase.Site => this with { Sites = [.. Sites, e.Site] },
        CountEvent.EventOneofCase.Total => this with { Total = e.Total },
        _ => this,
    };
}
