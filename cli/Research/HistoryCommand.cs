using System.CommandLine;
using Midia.Protos.Coordinator.V1;
using Spectre.Console;

namespace Midia.Cli.Research;

/// <summary>`midia history [--json] [--limit N]`: your past federated queries with each site's status and the total.</summary>
public static class HistoryCommand
{
    public static Command Command()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON document instead of the table" };
        var limit = new Option<int>("--limit") { Description = "How many queries, newest first", DefaultValueFactory = _ => 20 };
        var command = new Command("history", "Your past federated queries: when, project, each site's status and the total") { json, limit };
        var connection = new CoordinatorConnection().AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var session = connection.Open(parse);
            var reply = await session.CallAsync((s, o) => s.Research.HistoryAsync(new HistoryRequest { Limit = parse.GetValue(limit) }, o), cancellationToken);
            if (parse.GetValue(json))
            {
                using var stdout = Console.OpenStandardOutput();
                using (var w = CountJson.Stdout(stdout))
                {
                    w.WriteStartObject();
                    w.WriteStartArray("queries");
                    foreach (var entry in reply.Entries)
                    {
                        w.WriteStartObject();
                        w.WriteString("askedAt", DateTimeOffset.FromUnixTimeMilliseconds(entry.AskedAtUnixMs));
                        w.WriteString("project", entry.Project);
                        w.WriteString("queryType", entry.QueryType);
                        w.WriteString("queryHash", entry.QueryHash);
                        w.WriteNumber("replays", entry.Replays);
                        w.WritePropertyName("result");
                        CountJson.Write(w, entry.QueryId, entry.Total, entry.Sites, entry.StratifyBy.Count > 0);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                stdout.WriteByte((byte)'\n');
                return 0;
            }
            var table = new Table().Border(TableBorder.Rounded).AddColumns("asked (UTC)", "project", "type", "total", "sites");
            foreach (var entry in reply.Entries)
            {
                var total = entry.Total is null ? "(unfinished)" : entry.Total.HasValue ? $"{(entry.Total.Obfuscated ? "≈ " : "")}{entry.Total.Value}" : entry.Total.BelowThreshold ? "not shown (too small)" : "none";
                var sites = string.Join(", ", entry.Sites.Select(s => $"{s.Site} {s.Status.Word()}"));
                table.AddRow($"{DateTimeOffset.FromUnixTimeMilliseconds(entry.AskedAtUnixMs):yyyy-MM-dd HH:mm}", Markup.Escape(entry.Project), entry.QueryType,
                    Markup.Escape(total) + (entry.Replays > 0 ? $" [grey](replayed {entry.Replays}×)[/]" : ""), Markup.Escape(sites));
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
