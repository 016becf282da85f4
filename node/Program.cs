using System.CommandLine;

// midia-node: one site's node. Each capability adds its command here.
var root = new RootCommand("midia-node: a site's node of Midia Federated — import, serve, admin, consent, patient report, local count");
root.Subcommands.Add(Midia.Node.Import.ImportCommand.Command());
root.Subcommands.Add(Midia.Node.Policy.AdminCommands.Command());
root.Subcommands.Add(Midia.Node.Consent.ConsentCommands.Command());
root.Subcommands.Add(Midia.Node.Serve.ServeCommand.Command());
root.Subcommands.Add(Midia.Node.Transparency.PatientReportCommand.Command());
root.Subcommands.Add(Midia.Node.Query.CountCommand.Command());
return await Midia.Hosting.CommandLine.RunAsync(root, args);
