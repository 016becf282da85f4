using System.CommandLine;

// midia-portal: the network in the browser for researchers, clinicians, patients and site admins.
var root = new RootCommand("midia-portal: the web portal of one site — sign-in, research, care, patients, site administration");
root.Subcommands.Add(Midia.Portal.Serve.ServeCommand.Command());
root.Subcommands.Add(Midia.Portal.Accounts.AccountsCommand.Command());
return await Midia.Hosting.CommandLine.RunAsync(root, args);
