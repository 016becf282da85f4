using System.CommandLine;
using Midia.Cli.Care;
using Midia.Cli.Dev;
using Midia.Cli.Projects;
using Midia.Cli.Research;

// midia: the researchers', clinicians' and developers' tool. Each capability adds its command here.
var root = new RootCommand("midia: federated cohort counts, patient summaries and the developer tools of Midia Federated");
root.Subcommands.Add(CountCommand.Command());
root.Subcommands.Add(SitesCommand.Command());
root.Subcommands.Add(QuotaCommand.Command());
root.Subcommands.Add(HistoryCommand.Command());
root.Subcommands.Add(ProjectCommands.Command());
root.Subcommands.Add(SummaryCommand.Command());
root.Subcommands.Add(DevCommand.Command());
return await Midia.Hosting.CommandLine.RunAsync(root, args);
