namespace Midia.Bench.Suite;

/// <summary>A benchmark that cannot run on this machine (a peer is not installed): its block in BENCHMARKS.md is left as it was, and the reason is printed.</summary>
public sealed class BenchmarkSkipped(string reason) : Exception(reason);
