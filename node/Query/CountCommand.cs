using System.CommandLine;
using Midia.Hosting;
using Midia.Node.Consent;
using Midia.Node.Policy;
using Midia.Node.Store;

namespace Midia.Node.Query;

/// <summary>
/// `midia-node count --db FILE QUERY.json [--json]`: the site admin's dry run of a CCDL query on the
/// site's own database, before approving a query type. Exact (no disclosure control: the number never
/// leaves the machine), counted like a research query (matching and permitting research use today),
/// and audited as the local admin.
/// </summary>
public static class CountCommand
{
    public static Command Command()
    {
        var db = SiteDatabase.DbOption();
        var file = new Argument<string>("QUERY.json") { Description = "The CCDL query (the JSON the MII feasibility portal sends)" };
        var json = new Option<bool>("--json") { Description = "Print {\"value\": N, \"exact\": true}" };
        var command = new Command("count", "Count locally what a research query would count at this site: exact, never leaves the machine, audited") { db, file, json };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path)) throw new CommandException($"query file '{path}' not found");
            using var connection = SiteDatabase.OpenExisting(parse, db);
            var value = Run(connection, File.ReadAllText(path), path, Days.Today(), LocalAdmin());
            if (parse.GetValue(json)) Console.Out.WriteLine($$"""{"value": {{value}}, "exact": true}""");
            else Console.Out.WriteLine($"{value:N0} patients match the query and permit research use at this site (exact, counted locally; nothing left this machine)");
            return 0;
        });
        return command;
    }

    /// <summary>Who runs the dry run, for the audit: the operating-system account at the site's own machine.</summary>
    public static string LocalAdmin() => $"local admin ({Environment.UserName})";

    /// <summary>
    /// Evaluates the query as a research count would (matching, then research consent) and writes one
    /// audit entry, answered or refused. A query the node refuses throws a CommandException naming the
    /// file and the JSON path.
    /// </summary>
    public static long Run(Microsoft.Data.Sqlite.SqliteConnection connection, string ccdl, string source, int today, string admin)
    {
        var audit = new Audit.AuditLog(connection);
        CohortQuery? query = null;
        try
        {
            query = CohortQuery.Parse(ccdl);
            var consent = new ConsentLedger(connection);
            var cohort = new CohortEvaluator(connection, consent).Evaluate(query, today);
            cohort.IntersectWith(consent.Permitted(ConsentPolicies.Research, today));
            var value = cohort.Count();
            audit.Answered(admin, "site-admin", null, QueryTypes.CohortCount, query.CanonicalHash, $"{value} (exact, local dry run; not released)");
            return value;
        }
        catch (CcdlException e)
        {
            audit.Refused(admin, "site-admin", null, QueryTypes.CohortCount, query?.CanonicalHash, $"local dry run: query refused at {e.JsonPath}: {e.Reason}");
            throw new CommandException($"{source}: {e.JsonPath}: {e.Reason}");
        }
    }
}
