using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Midia.Node.Store;

namespace Midia.Node.Audit;

/// <summary>`midia-node admin audit`: every request this site received, oldest first.</summary>
public static class AuditCommand
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Command()
    {
        var db = SiteDatabase.DbOption();
        var since = new Option<string>("--since") { HelpName = "DATE", Description = "Only entries on or after this day, YYYY-MM-DD (UTC)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var command = new Command("audit", "Show the audit log: who asked what, when, and what was released") { db, since, json };
        command.SetAction(parse =>
        {
            var day = DateFlag.Parse(parse.GetValue(since), "--since");
            using var connection = SiteDatabase.OpenExisting(parse, db);
            var entries = new AuditLog(connection).Read(day is null ? null : Days.ToDate(day.Value).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc));
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    entries = entries.Select(e => new
                    {
                        time = e.Time.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                        user = e.UserName, role = e.UserRole, project = e.Project, queryType = e.QueryType,
                        queryHash = e.QueryHash, outcome = e.Outcome, reason = e.Reason, released = e.Released, requestId = e.RequestId,
                    }),
                }, Json));
                return 0;
            }
            if (entries.Count == 0) Console.Out.WriteLine("no audit entries" + (day is null ? "" : " since " + DateFlag.Format(day)));
            foreach (var e in entries)
            {
                var outcome = e.Outcome == AuditOutcome.Answered ? $"answered: {e.Released}" : $"{e.Outcome}: {e.Reason}";
                Console.Out.WriteLine($"{e.Time:yyyy-MM-dd HH:mm:ss}Z  {e.UserName ?? "-"} ({e.UserRole ?? "-"})  project {e.Project ?? "-"}  {e.QueryType}  {e.QueryHash ?? "-"}  {outcome}");
            }
            return 0;
        });
        return command;
    }
}
