using System.CommandLine;
using Midia.Hosting;

namespace Midia.Portal.Accounts;

/// <summary>`midia-portal accounts add|list`: local accounts for people without a certificate (and for patients).</summary>
public static class AccountsCommand
{
    public static Command Command()
    {
        var accounts = new Command("accounts", "Local sign-in accounts of this portal (PBKDF2-hashed passwords, owner-only file)");
        accounts.Subcommands.Add(Add());
        accounts.Subcommands.Add(List());
        return accounts;
    }

    static Option<string> File() => new("--accounts") { HelpName = "FILE", Description = "The accounts file (JSON, mode 600; made if missing)" };

    static Command Add()
    {
        var file = File();
        var user = new Option<string>("--user") { HelpName = "NAME", Description = "The sign-in name", Required = true };
        var role = new Option<string>("--role") { HelpName = "ROLE", Description = $"One of {string.Join(", ", AccountStore.Roles)}", Required = true };
        var name = new Option<string>("--name") { HelpName = "TEXT", Description = "The name the portal shows and the audit records (default: the sign-in name)" };
        var site = new Option<string>("--site") { HelpName = "ID", Description = "The person's site (clinician, site-admin; a patient's home site)" };
        var kvnr = new Option<string>("--kvnr") { HelpName = "KVNR", Description = "A patient's health insurance number at the home site" };
        var command = new Command("add", "Add or replace an account; the password is read from the first line of standard input") { file, user, role, name, site, kvnr };
        command.SetAction(parse =>
        {
            var store = new AccountStore(Setting.Require(parse, file));
            var password = Console.In.ReadLine() ?? throw new CommandException("no password on standard input (pipe it in, e.g. `echo \"$PASSWORD\" | midia-portal accounts add ...`)");
            var account = store.Add(parse.GetValue(user)!, parse.GetValue(role)!, parse.GetValue(name), parse.GetValue(site), parse.GetValue(kvnr), password);
            // Never echo the KVNR: it identifies a person.
            Console.Out.WriteLine($"account {account.User} ({account.Role}{(account.Site is null ? "" : ", site " + account.Site)}) written to {store.Path}");
            return 0;
        });
        return command;
    }

    static Command List()
    {
        var file = File();
        var command = new Command("list", "The accounts: user, role, site (no hashes, no KVNRs)") { file };
        command.SetAction(parse =>
        {
            foreach (var a in new AccountStore(Setting.Require(parse, file)).Read())
                Console.Out.WriteLine($"{a.User,-20} {a.Role,-11} {a.Site ?? "-",-10} {a.Name}");
            return 0;
        });
        return command;
    }
}
