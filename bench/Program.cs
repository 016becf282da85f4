// midia-bench: micro-benchmarks that print figures (never timed assertions). One case per line.
var benchmark = args.Length > 0 ? args[0] : "";
return benchmark switch
{
    "rpc-unary" => await Midia.Bench.Rpc.UnaryBench.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("error: name a benchmark: rpc-unary [--calls N] [--warmup N] [--concurrency N] [--payload BYTES]");
    return 2;
}
