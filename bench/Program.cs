// midia-bench: the figures BENCHMARKS.md reports (never timed assertions in tests). One case per benchmark.
return args.FirstOrDefault() switch
{
    "import" => Midia.Bench.Node.ImportBench.Run(int.Parse(Option(args, "--patients") ?? "10000"), Option(args, "--keep")), // FHIR import resources/s
    "query" => Midia.Bench.Node.QueryBench.Run(args[1..]), // CCDL engine vs hand-written SQL: midia-bench query --patients 1000000
    "ledger" => Midia.Bench.Node.LedgerBench.Run(args[1..]), // usage ledger: blob sizes, cohort-count p50/p95 with and without: midia-bench ledger --patients 1000000
    "consent" => Midia.Bench.Node.ConsentBench.Run(int.Parse(Option(args, "--patients") ?? "100000"), Option(args, "--keep")), // site-wide consent sets
    "rpc-unary" => await Midia.Bench.Rpc.UnaryBench.RunAsync(args[1..]), // gRPC unary round trips, ours vs grpcio and grpc-js: midia-bench rpc-unary
    "fanout" => Midia.Bench.Coordinator.FanOutBench.RunAsync(int.Parse(Option(args, "--iterations") ?? "300")).GetAwaiter().GetResult(), // federated count latency (3 and 10 nodes) vs one node, counts/s
    "consent-propagation" => Midia.Bench.Consent.PropagationBench.RunAsync(int.Parse(Option(args, "--iterations") ?? "200"), int.Parse(Option(args, "--burst") ?? "10000")).GetAwaiter().GetResult(), // network consent: set -> applied at 3 and 10 nodes p50/p99, burst throughput
    "summary" => Midia.Bench.Care.SummaryBench.RunAsync(int.Parse(Option(args, "--iterations") ?? "200"), int.Parse(Option(args, "--facts") ?? "240"), int.Parse(Option(args, "--background") ?? "2000")).GetAwaiter().GetResult(), // cross-site patient summary latency p50/p95, 3 and 10 nodes, rich histories
    "soak" => await Midia.Bench.Soak.SoakBench.RunAsync(args[1..]), // sustained load on real server processes: midia-bench soak [--minutes 10] [--sites 3] [--rate 10]
    "simulated-network" => await Midia.Bench.Coordinator.SimulatedNetworkBench.RunAsync(args[1..]), // coordinator fan-out cost with 1..200 simulated sites: midia-bench simulated-network [--iterations N]
    "network-scale" => await Midia.Bench.Network.NetworkScaleBench.RunAsync(args[1..]), // N real nodes x P patients: federated count, summary, patient report, consent propagation: midia-bench network-scale [--nodes 10] [--patients 200000] [--iterations 50]
    "capacity" => await Midia.Bench.Network.NetworkScaleBench.RunCapacityAsync(args[1..]), // one node's sustained counts/s and summaries/s
    "all" => await Midia.Bench.Suite.SuiteCommand.RunAsync(args[1..]), // every benchmark, rewriting BENCHMARKS.md's tables: midia-bench all [--quick (default)|--full] [--out FILE] [--only a,b]
    _ => Usage(),
};

static string? Option(string[] args, string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

static int Usage()
{
    Console.Error.WriteLine("error: usage: midia-bench all [--quick|--full] [--out FILE] [--only a,b] | import|consent --patients N [--keep DIR] | query [--patients N] [--runs N] [--db path] [--rebuild] | ledger [--patients N] [--runs N] [--db path] [--rebuild] | fanout [--iterations N] | consent-propagation [--iterations N] [--burst N] | summary [--iterations N] [--facts N] [--background N] | simulated-network [--iterations N] | network-scale [--nodes N] [--patients N] [--iterations N] | capacity [--patients N] [--seconds N] [--in-flight N] | soak [--minutes M] [--sites N] [--rate OPS] [--in-flight N] [--seed N]");
    return 2;
}
