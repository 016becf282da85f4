using System.CommandLine;
using Midia.Coordinator.Serve;

// midia-coordinator: fans requests out to the sites and carries consent changes to every node.
// Holds no patient-level data: only the sites' released numbers, in its own query history.
var root = new RootCommand("midia-coordinator: the network's coordinator — fan-out, aggregation, consent propagation");
root.Subcommands.Add(ServeCommand.Command());
return await Midia.Hosting.CommandLine.RunAsync(root, args);
