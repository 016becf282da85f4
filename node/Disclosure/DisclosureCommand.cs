using System.CommandLine;
using System.Text.Json;
using Midia.Node.Policy;
using Midia.Node.Store;
using Midia.Hosting;

namespace Midia.Node.Disclosure;

/// <summary>`midia-node admin disclosure TYPE [...]`: show or change how a query type's numbers leave the node.</summary>
public static class DisclosureCommand
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Command()
    {
        var db = SiteDatabase.DbOption();
        var type = new Argument<string>("TYPE") { Description = $"Query type: {string.Join(", ", QueryTypes.All)}" };
        var epsilon = new Option<string>("--epsilon") { HelpName = "E", Description = $"Privacy parameter of the discrete Laplace noise (default {DisclosureSetting.DefaultEpsilon}; smaller = more noise)" };
        var round = new Option<int?>("--round") { HelpName = "N", Description = $"Round released numbers to a multiple of N (default {DisclosureSetting.DefaultRound}; 1 = no rounding)" };
        var threshold = new Option<int?>("--threshold") { HelpName = "K", Description = $"True counts below K are released only as 'below threshold' (default {DisclosureSetting.DefaultThreshold}, 0 with --exact)" };
        var exact = new Option<bool>("--exact") { Description = "Release true counts, no noise (only where the network's governance allows it); --exact false turns noise back on" };
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var command = new Command("disclosure", "Show the disclosure settings of a query type, or change them (only the flags given)")
            { db, type, epsilon, round, threshold, exact, json };
        command.SetAction(parse =>
        {
            var queryType = QueryTypes.Parse(parse.GetValue(type)!);
            var e = parse.GetValue(epsilon) is { } text ? DisclosureSetting.ParseEpsilon(text) : (decimal?)null;
            var r = parse.GetValue(round);
            if (r is < 1) throw new CommandException($"--round: expected N ≥ 1, got {r}");
            var k = parse.GetValue(threshold);
            if (k is < 0) throw new CommandException($"--threshold: expected K ≥ 0, got {k}");
            bool? x = parse.GetResult(exact) is null ? null : parse.GetValue(exact);
            using var connection = SiteDatabase.OpenExisting(parse, db);
            var control = new DisclosureControl(connection);
            var changed = e is not null || r is not null || k is not null || x is not null;
            var setting = changed ? control.Configure(queryType, e, r, k, x) : control.Setting(queryType);
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    queryType = setting.QueryType,
                    exact = setting.Exact,
                    epsilon = setting.Epsilon,
                    round = setting.Round,
                    threshold = setting.Threshold,
                    treatment = Describe(setting),
                }, Json));
            else
                Console.Out.WriteLine($"{setting.QueryType}: {Describe(setting)}{(changed ? " (saved)" : "")}");
            return 0;
        });
        return command;
    }

    /// <summary>The treatment in plain words (also what the site-admin service shows).</summary>
    public static string Describe(DisclosureSetting s) =>
        (s.Exact ? "exact counts" : $"discrete Laplace noise (epsilon {DisclosureSetting.Format(s.Epsilon)}), rounded to {s.Round}")
        + (s.Threshold > 0 ? $"; counts below {s.Threshold} released only as 'below threshold'" : "; no threshold");
}
