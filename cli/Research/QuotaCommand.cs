using System.CommandLine;
using Midia.Protos.Coordinator.V1;
using Spectre.Console;

namespace Midia.Cli.Research;

/// <summary>`midia quota [--json]`: how many federated queries you have used and when they free up.</summary>
public static class QuotaCommand
{
    public static Command Command()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON document instead of the table" };
        var command = new Command("quota", "Your query quota: used, limit and when it frees up, per window") { json };
        var connection = new CoordinatorConnection().AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var session = connection.Open(parse);
            var reply = await session.CallAsync((s, o) => s.Research.QuotaAsync(new QuotaRequest(), o), cancellationToken);
            if (parse.GetValue(json))
            {
                using var stdout = Console.OpenStandardOutput();
                using (var w = CountJson.Stdout(stdout))
                {
                    w.WriteStartObject();
                    w.WriteString("researcher", reply.Researcher);
                    w.WriteStartArray("windows");
                    foreach (var window in reply.Windows)
                    {
                        w.WriteStartObject();
                        w.WriteString("window", window.Name);
                        w.WriteNumber("limit", window.Limit);
                        w.WriteNumber("used", window.Used);
                        w.WriteNumber("remaining", Math.Max(0, window.Limit - window.Used));
                        if (window.FreesAtUnixMs > 0) w.WriteString("freesAt", DateTimeOffset.FromUnixTimeMilliseconds(window.FreesAtUnixMs)); else w.WriteNull("freesAt");
                        w.WriteBoolean("hard", window.Hard);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteNumber("identicalQueryWindowSeconds", reply.IdenticalQueryWindowSeconds);
                    w.WriteEndObject();
                }
                stdout.WriteByte((byte)'\n');
                return 0;
            }
            var table = new Table().Border(TableBorder.Rounded).AddColumns("window", "used", "limit", "frees up");
            foreach (var window in reply.Windows)
                table.AddRow(window.Name + (window.Hard ? " (hard)" : ""), window.Used.ToString(), window.Limit.ToString(),
                    window.FreesAtUnixMs > 0 ? $"{DateTimeOffset.FromUnixTimeMilliseconds(window.FreesAtUnixMs):yyyy-MM-dd HH:mm:ss} UTC" : "");
            AnsiConsole.MarkupLine($"quota of [bold]{Markup.Escape(reply.Researcher)}[/]");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"[grey]an identical query within {TimeSpan.FromSeconds(reply.IdenticalQueryWindowSeconds).TotalHours:0.#} h is answered from history and costs no quota[/]");
            return 0;
        });
        return command;
    }
}
