using System.CommandLine;
using System.Text.Json;
using Midia.Node.Store;
using Midia.Hosting;

namespace Midia.Node.Consent;

/// <summary>`midia-node consent show|set`: the site's consent desk.</summary>
public static class ConsentCommands
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Command()
    {
        var consent = new Command("consent", "Show a patient's consent per policy, or record a consent change made at this site's desk");
        consent.Subcommands.Add(Show());
        consent.Subcommands.Add(Set());
        return consent;
    }

    static Option<string> Db() => SiteDatabase.DbOption();
    static Option<string> Kvnr() => new("--kvnr") { HelpName = "K", Description = "The patient's KVNR (statutory insurance id)" };
    static Option<string> Patient() => new("--patient") { HelpName = "LOCALID", Description = "The patient's local Patient id at this site" };

    static Command Show()
    {
        Option<string> db = Db(), kvnr = Kvnr(), patient = Patient();
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var command = new Command("show", "The effective consent per policy today, with the periods and where each part came from") { db, kvnr, patient, json };
        command.SetAction(parse =>
        {
            using var connection = SiteDatabase.OpenExisting(parse, db);
            var pid = LocalPatient.Find(connection, parse.GetValue(kvnr), parse.GetValue(patient));
            var explanation = new ConsentLedger(connection).Explain(pid, Days.Today());
            var localId = ResourceId(connection, pid);
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(ToJson(localId, explanation), Json));
            else
                Print(localId, explanation);
            return 0;
        });
        return command;
    }

    static Command Set()
    {
        Option<string> db = Db(), kvnr = Kvnr(), patient = Patient();
        var policy = new Option<string>("--policy") { HelpName = "CODE", Description = "Full MII policy code, 'research' (MII .8) or 'care-sharing'", Required = true };
        var permit = new Option<bool>("--permit") { Description = "The patient permits the policy" };
        var deny = new Option<bool>("--deny") { Description = "The patient denies (revokes) the policy" };
        var from = new Option<string>("--from") { HelpName = "DATE", Description = "First day in force, YYYY-MM-DD (default: today)" };
        var to = new Option<string>("--to") { HelpName = "DATE", Description = "Last day in force, YYYY-MM-DD (default: open)" };
        var command = new Command("set", "Record a consent change for this patient: in force here at once, and sent to every site of the network")
            { db, kvnr, patient, policy, permit, deny, from, to };
        command.SetAction(parse =>
        {
            var code = ConsentPolicies.Resolve(parse.GetValue(policy)!);
            if (parse.GetValue(permit) == parse.GetValue(deny)) throw new CommandException("give exactly one of --permit or --deny");
            var start = DateFlag.Parse(parse.GetValue(from), "--from") ?? Days.Today();
            var end = DateFlag.Parse(parse.GetValue(to), "--to");
            if (end < start) throw new CommandException($"--to {DateFlag.Format(end)} is before the start {DateFlag.Format(start)}");
            using var connection = SiteDatabase.OpenExisting(parse, db);
            var pid = LocalPatient.Find(connection, parse.GetValue(kvnr), parse.GetValue(patient));
            var isPermit = parse.GetValue(permit);
            var id = new ConsentLedger(connection).Record(pid, code, isPermit, start, end);
            Console.Out.WriteLine($"consent change #{id}: {(isPermit ? "permit" : "deny")} {ConsentPolicies.Name(code)} ({code}) " +
                $"from {DateFlag.Format(start)}{(end is null ? "" : " to " + DateFlag.Format(end))} for patient {ResourceId(connection, pid)} — " +
                "in force at this site now; queued for the network");
            return 0;
        });
        return command;
    }

    static string ResourceId(Microsoft.Data.Sqlite.SqliteConnection connection, long pid)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT resource_id FROM patient WHERE pid = $pid";
        command.Parameters.AddWithValue("$pid", pid);
        return (string)command.ExecuteScalar()!;
    }

    static object ToJson(string localId, ConsentExplanation e) => new
    {
        patient = localId,
        day = DateFlag.Format(e.Day),
        policies = e.Policies.Select(p => new
        {
            policy = p.Policy,
            system = ConsentPolicies.SystemOf(p.Policy),
            name = p.Name,
            permittedToday = p.PermittedToday,
            periods = p.Periods.Select(r => new { from = DateFlag.Format(r.From), to = DateFlag.Format(r.To), permitted = r.Permitted, because = r.Because }),
            provisions = p.Provisions.Select(v => new
            {
                origin = v.Origin.ToString().ToLowerInvariant(),
                permit = v.Permit,
                from = DateFlag.Format(v.Start),
                to = DateFlag.Format(v.End),
                source = v.Source,
                seq = v.Origin == ConsentOrigin.Network ? v.Order : (long?)null,
            }),
        }),
    };

    static void Print(string localId, ConsentExplanation e)
    {
        var o = Console.Out;
        o.WriteLine($"patient {localId}, consent as of {DateFlag.Format(e.Day)}");
        foreach (var p in e.Policies)
        {
            o.WriteLine();
            o.WriteLine($"{p.Name} ({p.Policy}): {(p.PermittedToday ? "PERMITTED" : "NOT PERMITTED")} today");
            foreach (var r in p.Periods)
                o.WriteLine($"  {DateFlag.Format(r.From) ?? "open",-10} .. {DateFlag.Format(r.To) ?? "open",-10}  {(r.Permitted ? "permitted" : "denied"),-9}  {string.Join("; ", r.Because)}");
            if (p.Provisions.Count == 0) continue;
            o.WriteLine("  provisions:");
            foreach (var v in p.Provisions)
                o.WriteLine($"    {(v.Permit ? "permit" : "deny"),-6} {DateFlag.Format(v.Start) ?? "open",-10} .. {DateFlag.Format(v.End) ?? "open",-10}  {v.Origin.ToString().ToLowerInvariant()}: {v.Source}");
        }
    }
}
