using Midia.Bench.Node;

// midia-bench: throughput and latency figures (never timed assertions in tests).
//   midia-bench import --patients N [--keep DIR]
static string? Option(string[] args, string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

switch (args.FirstOrDefault())
{
    case "import":
        return ImportBench.Run(int.Parse(Option(args, "--patients") ?? "10000"), Option(args, "--keep"));
    default:
        Console.Error.WriteLine("usage: midia-bench import --patients N [--keep DIR]");
        return 2;
}
