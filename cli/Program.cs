using System.CommandLine;
using Midia.Cli.Dev;

// midia: the researchers', clinicians' and developers' tool. Each capability adds its command here.
var root = new RootCommand("midia: federated cohort counts, patient summaries and the developer tools of Midia Federated");
root.Subcommands.Add(DevCommand.Command());
return await Midia.Rpc.Hosting.CommandLine.RunAsync(root, args);
