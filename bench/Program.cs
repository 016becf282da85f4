// midia-bench: the figures BENCHMARKS.md reports. One case per benchmark.
return args.FirstOrDefault() switch
{
    "query" => Midia.Bench.Node.QueryBench.Run(args[1..]), // CCDL engine vs hand-written SQL: midia-bench query --patients 1000000
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("error: usage: midia-bench query [--patients N] [--runs N] [--db path] [--rebuild]");
    return 2;
}
