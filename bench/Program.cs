using Midia.Bench.Node;

// midia-bench: throughput and latency figures (never timed assertions in tests).
//   midia-bench import --patients N [--keep DIR]
//   midia-bench fanout [--iterations N]
static string? Option(string[] args, string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

switch (args.FirstOrDefault())
{
    case "fanout":
        return await Midia.Bench.Coordinator.FanOutBench.RunAsync(int.Parse(Option(args, "--iterations") ?? "300"));
    case "import":
        return ImportBench.Run(int.Parse(Option(args, "--patients") ?? "10000"), Option(args, "--keep"));
    default:
        Console.Error.WriteLine("usage: midia-bench import --patients N [--keep DIR] | fanout [--iterations N]");
        return 2;
}
