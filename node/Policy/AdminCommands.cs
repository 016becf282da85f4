using System.CommandLine;
using System.Text.Json;
using Midia.Node.Audit;
using Midia.Node.Disclosure;
using Midia.Node.Store;
using Midia.Hosting;

namespace Midia.Node.Policy;

/// <summary>`midia-node admin ...`: what the site admin decides — approvals, disclosure, and the audit to check it.</summary>
public static class AdminCommands
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Command()
    {
        var admin = new Command("admin", "The site admin's controls: query-type approvals, disclosure settings, audit log");
        admin.Subcommands.Add(List());
        admin.Subcommands.Add(Approve());
        admin.Subcommands.Add(Revoke());
        admin.Subcommands.Add(DisclosureCommand.Command());
        admin.Subcommands.Add(AuditCommand.Command());
        return admin;
    }

    static Option<string> Db() => SiteDatabase.DbOption();
    static Argument<string> Type() => new("TYPE") { Description = $"Query type: {string.Join(", ", QueryTypes.All)}" };
    static Option<string> Project(string what) => new("--project") { HelpName = "P", Description = what };

    static Command Approve()
    {
        var db = Db();
        var type = Type();
        var project = Project("Approve only for this research project (default: every project)");
        var until = new Option<string>("--until") { HelpName = "DATE", Description = "Last day the approval holds, YYYY-MM-DD (default: until revoked)" };
        var command = new Command("approve", "Approve a query type, for every project or one, optionally until a day") { db, type, project, until };
        command.SetAction(parse =>
        {
            var queryType = QueryTypes.Parse(parse.GetValue(type)!);
            var day = DateFlag.Parse(parse.GetValue(until), "--until");
            if (day < Days.Today()) throw new CommandException($"--until {DateFlag.Format(day)} is in the past: the approval would never hold");
            using var connection = SiteDatabase.OpenExisting(parse, db);
            new QueryApproval(connection).Approve(queryType, parse.GetValue(project), day);
            Console.Out.WriteLine($"approved {queryType} for {Scope(parse.GetValue(project))}{(day is null ? "" : " until " + DateFlag.Format(day))}");
            return 0;
        });
        return command;
    }

    static Command Revoke()
    {
        var db = Db();
        var type = Type();
        var project = Project("Revoke only for this research project (default: every project, including project approvals)");
        var command = new Command("revoke", "Revoke a query type: requests are refused from the next one on") { db, type, project };
        command.SetAction(parse =>
        {
            var queryType = QueryTypes.Parse(parse.GetValue(type)!);
            using var connection = SiteDatabase.OpenExisting(parse, db);
            new QueryApproval(connection).Revoke(queryType, parse.GetValue(project));
            Console.Out.WriteLine($"revoked {queryType} for {Scope(parse.GetValue(project))}");
            return 0;
        });
        return command;
    }

    static Command List()
    {
        var db = Db();
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var command = new Command("list", "Query types: approved, pending requests, denied") { db, json };
        command.SetAction(parse =>
        {
            using var connection = SiteDatabase.OpenExisting(parse, db);
            var overview = new QueryApproval(connection).Overview(Days.Today());
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    approved = overview.Approved.Select(a => new { queryType = a.QueryType, project = a.Project, until = DateFlag.Format(a.Until), since = a.Changed }),
                    pending = overview.Pending.Select(p => new { queryType = p.QueryType, project = p.Project, requests = p.Count, firstSeen = p.FirstSeen, lastSeen = p.LastSeen }),
                    denied = overview.Denied.Select(d => new { queryType = d.QueryType, project = d.Project, reason = d.Note, since = d.Changed }),
                }, Json));
                return 0;
            }
            var o = Console.Out;
            o.WriteLine("approved:");
            foreach (var a in overview.Approved) o.WriteLine($"  {a.QueryType,-17} {Scope(a.Project)}{(a.Until is null ? "" : " until " + DateFlag.Format(a.Until))}");
            if (overview.Approved.Count == 0) o.WriteLine("  (none: every request is refused)");
            o.WriteLine("pending requests:");
            foreach (var p in overview.Pending) o.WriteLine($"  {p.QueryType,-17} {Scope(p.Project)}: {p.Count} request(s), first {p.FirstSeen}, last {p.LastSeen}");
            if (overview.Pending.Count == 0) o.WriteLine("  (none)");
            o.WriteLine("denied:");
            foreach (var d in overview.Denied) o.WriteLine($"  {d.QueryType,-17} {Scope(d.Project)}: {d.Note} ({d.Changed})");
            var undecided = QueryTypes.All.Where(t => !overview.Approved.Any(a => a.QueryType == t) && !overview.Denied.Any(d => d.QueryType == t)).ToList();
            if (undecided.Count > 0) o.WriteLine($"  {string.Join(", ", undecided)}: never approved (default deny)");
            return 0;
        });
        return command;
    }

    static string Scope(string? project) => project is null ? "every project" : $"project {project}";
}
