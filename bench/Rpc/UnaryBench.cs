using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Testing;
using Grpc.Core;
using Midia.Interop.Client;
using Midia.Interop.Peers;
using Midia.Interop.Pki;
using Midia.Interop.Server;

namespace Midia.Bench.Rpc;

/// <summary>
/// Unary round trips (grpc.testing.TestService/UnaryCall) on loopback over mutual TLS, for every
/// client/server pair the interop proof has: our client (grpc-dotnet over NetworkChannel) and
/// grpcio (Python, C-core) against our server (grpc-dotnet on trust/'s network server: the
/// authentication, authorization and interceptors every node runs) and against the grpc-js server. Per pair: sequential calls (one in flight) for latency
/// p50/p99 and calls/s, then --concurrency calls in flight for throughput. Bounded in count.
/// The machine is shared, so every pair runs in each of --rounds interleaved rounds and each
/// figure is the median over the rounds.
/// </summary>
public static class UnaryBench
{
    internal sealed record Result(string Client, string Server, int Calls, double P50Us, double P99Us, double SequentialPerS, int Concurrency, double ConcurrentPerS);

    public static async Task<int> RunAsync(string[] args)
    {
        var calls = Option(args, "--calls", 5000);
        var warmup = Option(args, "--warmup", 500);
        var concurrency = Option(args, "--concurrency", 16);
        var payload = Option(args, "--payload", 64);
        var rounds = Option(args, "--rounds", 3);
        if (calls is < 1 or > 1_000_000 || warmup is < 0 or > 100_000 || concurrency is < 1 or > 256 || payload is < 0 or > 1_000_000 || rounds is < 1 or > 20)
        {
            Console.Error.WriteLine("error: --calls 1..1000000, --warmup 0..100000, --concurrency 1..256, --payload 0..1000000, --rounds 1..20");
            return 2;
        }
        try
        {
            Console.WriteLine(await TableAsync(calls, warmup, concurrency, payload, rounds));
            return 0;
        }
        catch (Suite.BenchmarkSkipped missing)
        {
            Console.Error.WriteLine($"error: {missing.Message}");
            return 1;
        }
    }

    /// <summary>The markdown table BENCHMARKS.md shows, with the ratios of our server to the grpc-js
    /// server under the same client. Throws <see cref="Suite.BenchmarkSkipped"/> when a peer is not installed.</summary>
    public static async Task<string> TableAsync(int calls, int warmup, int concurrency, int payload, int rounds)
    {
        foreach (var problem in new[] { InteropPeers.PythonProblem(), InteropPeers.NodeProblem() })
            if (problem is not null) throw new Suite.BenchmarkSkipped(problem);

        Console.Error.WriteLine($"rpc-unary bench: {calls} sequential calls and {calls} with {concurrency} in flight per pair, {rounds} rounds");
        using var pki = ThrowAwayPki.Create();
        var measured = new List<Result>();
        using var serverTls = pki.ServerTls();
        await using (var host = await InteropTestHost.StartAsync(serverTls))
        using (var grpcJs = NodeTestServer.Start(pki))
        {
            for (var round = 1; round <= rounds; round++)
            {
                measured.Add(await OurClient("our server", host.Port, pki, calls, warmup, concurrency, payload));
                measured.Add(Grpcio("our server", host.Port, pki, calls, warmup, concurrency, payload));
                measured.Add(Grpcio("grpc-js server", grpcJs.Port, pki, calls, warmup, concurrency, payload));
                measured.Add(await OurClient("grpc-js server", grpcJs.Port, pki, calls, warmup, concurrency, payload));
                Console.Error.WriteLine($"round {round} of {rounds} done");
            }
        }
        var results = measured.GroupBy(r => (r.Client, r.Server)).Select(g => new Result(g.Key.Client, g.Key.Server, calls,
            Median(g.Select(r => r.P50Us)), Median(g.Select(r => r.P99Us)), Median(g.Select(r => r.SequentialPerS)),
            concurrency, Median(g.Select(r => r.ConcurrentPerS)))).ToList();

        var table = new System.Text.StringBuilder();
        table.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Per pair: {warmup} warm-up calls, {calls} sequential calls (p50/p99, calls/s), then {calls} calls with {concurrency} in flight; {payload}-byte payloads both ways; each figure the median of {rounds} interleaved round(s)."));
        table.AppendLine();
        table.AppendLine("| client | server | p50 µs | p99 µs | sequential calls/s | calls/s, " + concurrency + " in flight |");
        table.AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var r in results)
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Client} | {r.Server} | {r.P50Us:F0} | {r.P99Us:F0} | {r.SequentialPerS:F0} | {r.ConcurrentPerS:F0} |"));
        table.AppendLine();
        table.AppendLine("Ratios, our server against the grpc-js server under the same client:");
        table.AppendLine();
        foreach (var client in results.Select(r => r.Client).Distinct())
        {
            var ours = results.Single(r => r.Client == client && r.Server == "our server");
            var js = results.Single(r => r.Client == client && r.Server == "grpc-js server");
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"* {client}: {js.P50Us / ours.P50Us:F2}x lower p50, {ours.SequentialPerS / js.SequentialPerS:F2}x sequential calls/s, {ours.ConcurrentPerS / js.ConcurrentPerS:F2}x calls/s with {concurrency} in flight."));
        }
        return table.ToString();
    }

    static async Task<Result> OurClient(string server, int port, ThrowAwayPki pki, int calls, int warmup, int concurrency, int payload)
    {
        using var tls = pki.ClientTls();
        using var channel = InteropChannel.ToLoopback(port, tls);
        var client = new TestService.TestServiceClient(channel.Invoker);
        var request = new SimpleRequest { ResponseSize = payload, Payload = new Payload { Body = ByteString.CopyFrom(new byte[payload]) } };

        async Task Call()
        {
            var response = await client.UnaryCallAsync(request, deadline: DateTime.UtcNow.AddSeconds(10));
            if (response.Payload.Body.Length != payload) throw new InvalidOperationException("wrong response size");
        }

        return await Measure("our client", server, calls, warmup, concurrency, Call);
    }

    /// <summary>Sequential latency and calls/s, then calls/s with <paramref name="concurrency"/> in flight, of one client's calls.</summary>
    internal static async Task<Result> Measure(string client, string server, int calls, int warmup, int concurrency, Func<Task> Call)
    {
        for (var i = 0; i < warmup; i++) await Call();
        var latencies = new double[calls];
        var total = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await Call();
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }
        var sequentialSeconds = total.Elapsed.TotalSeconds;

        var remaining = calls;
        var concurrent = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Decrement(ref remaining) >= 0) await Call();
        }));
        var concurrentSeconds = concurrent.Elapsed.TotalSeconds;

        return new Result(client, server, calls, Percentile.Of(latencies, 50), Percentile.Of(latencies, 99),
            calls / sequentialSeconds, concurrency, calls / concurrentSeconds);
    }

    static Result Grpcio(string server, int port, ThrowAwayPki pki, int calls, int warmup, int concurrency, int payload)
    {
        var run = PeerProcess.Run(InteropPeers.Python,
            ["bench_unary.py", .. pki.DriverArguments(port), "--calls", Text(calls), "--warmup", Text(warmup),
             "--concurrency", Text(concurrency), "--payload", Text(payload)],
            InteropPeers.PythonDirectory, TimeSpan.FromMinutes(5));
        if (run.ExitCode != 0) throw new InvalidOperationException($"bench_unary.py against the {server} failed: {run}");
        var json = JsonDocument.Parse(run.Stdout.Trim().Split('\n')[^1]).RootElement;
        return new Result("grpcio", server, json.GetProperty("calls").GetInt32(), json.GetProperty("p50_us").GetDouble(),
            json.GetProperty("p99_us").GetDouble(), json.GetProperty("sequential_calls_per_s").GetDouble(), concurrency,
            json.GetProperty("concurrent_calls_per_s").GetDouble());
    }

    static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    // Nearest-rank percentile, the same rule as bench_unary.py.

    static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    static int Option(string[] args, string name, int fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length && int.TryParse(args[at + 1], CultureInfo.InvariantCulture, out var value) ? value : fallback;
    }
}
