using System.CommandLine;

// midia-coordinator: fans requests out to the sites and carries consent changes to every node.
var root = new RootCommand("midia-coordinator: the network's coordinator — fan-out, aggregation, consent propagation");
return await Midia.Rpc.Hosting.CommandLine.RunAsync(root, args);
