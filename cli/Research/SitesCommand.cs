using System.CommandLine;
using Midia.Protos.Coordinator.V1;
using Spectre.Console;

namespace Midia.Cli.Research;

/// <summary>`midia sites [--json]`: each site as the coordinator sees it — address, circuit, last success and latency.</summary>
public static class SitesCommand
{
    public static Command Command()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON document instead of the table" };
        var command = new Command("sites", "Each site as the coordinator sees it: address, circuit breaker, last success, last latency") { json };
        var connection = new CoordinatorConnection().AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var session = connection.Open(parse);
            var reply = await session.CallAsync((s, o) => s.Research.SitesAsync(new SitesRequest(), o), cancellationToken);
            if (parse.GetValue(json))
            {
                using var stdout = Console.OpenStandardOutput();
                using (var w = CountJson.Stdout(stdout))
                {
                    w.WriteStartObject();
                    w.WriteStartArray("sites");
                    foreach (var site in reply.Sites)
                    {
                        w.WriteStartObject();
                        w.WriteString("site", site.Id);
                        w.WriteString("address", site.Address);
                        w.WriteString("circuit", Circuit(site.Circuit));
                        if (site.LastSuccessUnixMs > 0) w.WriteString("lastSuccess", DateTimeOffset.FromUnixTimeMilliseconds(site.LastSuccessUnixMs)); else w.WriteNull("lastSuccess");
                        if (site.LastSuccessUnixMs > 0) w.WriteNumber("lastLatencyMs", Math.Round(site.LastLatencyMicros / 1000.0, 2)); else w.WriteNull("lastLatencyMs");
                        if (site.LastProblem.Length > 0) w.WriteString("lastProblem", site.LastProblem);
                        if (site.CircuitRetryUnixMs > 0) w.WriteString("circuitRetryAt", DateTimeOffset.FromUnixTimeMilliseconds(site.CircuitRetryUnixMs));
                        w.WriteNumber("appliedConsentSequence", site.AppliedConsentSequence);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                stdout.WriteByte((byte)'\n');
                return 0;
            }
            var table = new Table().Border(TableBorder.Rounded).AddColumns("site", "address", "circuit", "last success", "last latency", "last problem");
            foreach (var site in reply.Sites)
                table.AddRow(Markup.Escape(site.Id), Markup.Escape(site.Address), Circuit(site.Circuit) + (site.CircuitRetryUnixMs > 0 ? $" (probe at {DateTimeOffset.FromUnixTimeMilliseconds(site.CircuitRetryUnixMs):HH:mm:ss} UTC)" : ""),
                    site.LastSuccessUnixMs > 0 ? $"{DateTimeOffset.FromUnixTimeMilliseconds(site.LastSuccessUnixMs):yyyy-MM-dd HH:mm:ss} UTC" : "never",
                    site.LastSuccessUnixMs > 0 ? $"{site.LastLatencyMicros / 1000.0:0.##} ms" : "", Markup.Escape(site.LastProblem));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"[grey]registry: {Markup.Escape(reply.RegistryFile)}, loaded {DateTimeOffset.FromUnixTimeMilliseconds(reply.RegistryLoadedUnixMs):yyyy-MM-dd HH:mm:ss} UTC[/]");
            return 0;
        });
        return command;
    }

    static string Circuit(CircuitState state) => state switch
    {
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half-open",
        _ => "closed",
    };
}
