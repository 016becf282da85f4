using System.Diagnostics;
using Midia.Bench.Care;
using Midia.Bench.Consent;
using Midia.Bench.Coordinator;
using Midia.Bench.Network;
using Midia.Bench.Node;

namespace Midia.Bench.Suite;

/// <summary>
/// `midia-bench all [--quick|--full] [--out BENCHMARKS.md] [--only a,b]`: runs every benchmark in
/// this process and rewrites each one's block in BENCHMARKS.md (between its markers), headed by the
/// machine, date, commit and load. Quick: small sizes, about a minute, what CI smoke-runs. Full:
/// hospital scale (1 M patients at one node, 10 nodes, 200 simulated sites). The file is rewritten
/// after every benchmark, so a late crash keeps what was measured; a crash makes the exit code 1.
/// </summary>
public static class SuiteCommand
{
    /// <summary>One benchmark: its marker name, the heading a fresh file gets, and its run at quick or full size.</summary>
    sealed record Benchmark(string Name, string Title, Func<bool, Task<string>> Run);

    static readonly Benchmark[] Benchmarks =
    [
        // TODO(issue 14): rpc-unary ("gRPC transport": UnaryBench.TableAsync(calls: 5000, warmup: 500, concurrency: 16,
        // payload: 64, rounds: 3), quick: calls 300, warmup 50, rounds 1) returns here, old and new side by side, once
        // tests/Interop's TestService runs on grpc-dotnet; until then its block in BENCHMARKS.md stays as it was.
        new("query", "CCDL cohort counts", full => Task.FromResult(Agreeing(full ? QueryBench.Table(1_000_000, 15) : QueryBench.Table(20_000, 5)))),
        new("consent-propagation", "Network consent propagation", full => full
            ? PropagationBench.TableAsync(iterations: 200, burst: 10_000)
            : PropagationBench.TableAsync(iterations: 20, burst: 500)),
        new("fanout", "Federated count: coordinator fan-out", full => full
            ? FanOutBench.TableAsync(iterations: 300, cliRuns: 10, sustainedSeconds: 5)
            : FanOutBench.TableAsync(iterations: 30, cliRuns: 0, sustainedSeconds: 2)),
        new("simulated-network", "Simulated network: fan-out cost from 1 to 200 sites", full => full
            ? SimulatedNetworkBench.TableAsync([1, 10, 50, 100, 200], iterations: 100)
            : SimulatedNetworkBench.TableAsync([1, 200], iterations: 10)),
        new("network-scale", "A network at scale: 10 nodes × 200,000 patients", full => full
            ? NetworkScaleBench.TableAsync(nodeCount: 10, patients: 200_000, iterations: 50)
            : NetworkScaleBench.TableAsync(nodeCount: 3, patients: 5_000, iterations: 10)),
        new("capacity", "One node's capacity", full => full
            ? NetworkScaleBench.CapacityAsync(patients: 1_000_000, seconds: 20)
            : NetworkScaleBench.CapacityAsync(patients: 5_000, seconds: 2)),
        new("summary", "Patient summary", full => full
            ? SummaryBench.TableAsync(iterations: 200, factsPerSite: 240, backgroundPatients: 2000)
            : SummaryBench.TableAsync(iterations: 20, factsPerSite: 240, backgroundPatients: 200)),
        new("consent", "Site-wide consent sets", full => Task.FromResult(ConsentBench.Table(full ? 1_000_000 : 20_000, null))),
        // Full: the 1 M-patient first load only; a re-import of 1 M (all upserts) takes as long again (`midia-bench import --patients 1000000`).
        new("import", "FHIR import", full => Task.FromResult(full ? ImportBench.Table(1_000_000, null, reimport: false) : ImportBench.Table(2_000, null))),
        new("ledger", "Usage ledger", full => Task.FromResult(full ? LedgerBench.Tables(1_000_000, 21) : LedgerBench.Tables(20_000, 5))),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var full = false;
        var output = "BENCHMARKS.md";
        HashSet<string>? only = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick": full = false; break;
                case "--full": full = true; break;
                case "--out" when i + 1 < args.Length: output = args[++i]; break;
                case "--only" when i + 1 < args.Length: only = [.. args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]; break;
                default:
                    Console.Error.WriteLine($"error: unknown option '{args[i]}' (use: all [--quick|--full] [--out FILE] [--only {string.Join(",", Benchmarks.Select(b => b.Name))}])");
                    return 2;
            }
        }
        if (only?.FirstOrDefault(n => Benchmarks.All(b => b.Name != n)) is { } unknown)
        {
            Console.Error.WriteLine($"error: --only names '{unknown}', which is not a benchmark (there are: {string.Join(", ", Benchmarks.Select(b => b.Name))})");
            return 2;
        }

        var mode = full ? "--full" : "--quick";
        var machine = Machine.Describe();
        var commit = Machine.Commit();
        var document = File.Exists(output) ? File.ReadAllText(output) : "";
        var suite = Stopwatch.StartNew();
        var failed = new List<string>();
        Console.Error.WriteLine($"midia-bench all {mode}: {machine}; commit {commit}; writing {output}");
        foreach (var benchmark in Benchmarks.Where(b => only is null || only.Contains(b.Name)))
        {
            var loadBefore = Machine.Load();
            var started = DateTime.UtcNow;
            var clock = Stopwatch.StartNew();
            Console.Error.WriteLine($"== {benchmark.Name} ({mode}), load average {loadBefore}");
            string table;
            try
            {
                table = await benchmark.Run(full);
            }
            catch (BenchmarkSkipped skipped) when (!full)
            {
                Console.Error.WriteLine($"== {benchmark.Name}: skipped, {skipped.Message}; its block is left as it was");
                continue;
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"== {benchmark.Name} FAILED: {e}");
                failed.Add(benchmark.Name);
                continue;
            }
            var header = $"_Measured by `midia-bench all {mode}` on {started:yyyy-MM-dd HH:mm} UTC at commit {commit}: {machine}; " +
                         $"load average {loadBefore} at the start, {Machine.Load()} at the end; {clock.Elapsed.TotalSeconds:0} s._";
            var block = header + "\n\n" + table.Trim();
            document = BenchmarksFile.Replace(document, benchmark.Name, benchmark.Title, block);
            BenchmarksFile.Write(output, document);
            Console.WriteLine(BenchmarksFile.Open(benchmark.Name));
            Console.WriteLine(block);
            Console.WriteLine(BenchmarksFile.Close(benchmark.Name));
            Console.WriteLine();
        }
        Console.Error.WriteLine($"midia-bench all {mode}: {suite.Elapsed.TotalSeconds:0} s" + (failed.Count == 0 ? "" : $"; FAILED: {string.Join(", ", failed)}"));
        return failed.Count == 0 ? 0 : 1;
    }

    static string Agreeing((string Table, bool Agree) result) =>
        result.Agree ? result.Table : throw new InvalidOperationException("the CCDL engine and the hand-written SQL disagree on a count:\n" + result.Table);
}
