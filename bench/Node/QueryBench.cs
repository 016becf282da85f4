using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Midia.Node.Query;
using Midia.Node.Store;

namespace Midia.Bench.Node;

/// <summary>
/// `midia-bench query --patients 1000000 [--runs 15] [--db path] [--rebuild]`: builds (or reuses) a
/// site database of N synthetic patients by direct bulk inserts, then runs a fixed set of CCDL
/// queries through the engine and, beside each, the best hand-written SQL for the same question;
/// checks both give the same count and prints a markdown table of warm p50/p95 latencies.
/// </summary>
public static class QueryBench
{
    static readonly DateOnly Today = new(2025, 6, 30);

    public static int Run(string[] args)
    {
        int patients = 1_000_000, runs = 15;
        string? db = null;
        bool rebuild = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--patients": patients = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--db": db = args[++i]; break;
                case "--rebuild": rebuild = true; break;
                default:
                    Console.Error.WriteLine($"error: unknown option {args[i]} (use --patients N --runs N --db path --rebuild)");
                    return 2;
            }
        }
        var (table, agree) = Table(patients, runs, db, rebuild);
        Console.WriteLine(table);
        Console.WriteLine(agree ? "engine and hand-written SQL agree on every count" : "MISMATCH between engine and hand-written SQL");
        return agree ? 0 : 1;
    }

    /// <summary>The markdown table BENCHMARKS.md shows, and whether engine and SQL gave the same count on every query.</summary>
    public static (string Table, bool Agree) Table(int patients, int runs, string? db = null, bool rebuild = false)
    {
        db ??= Path.Combine(Path.GetTempPath(), $"midia-bench-query-{patients}.db");
        var built = "";
        if (rebuild || !File.Exists(db) || !Complete(db, patients))
        {
            foreach (var file in new[] { db, db + "-wal", db + "-shm" }) File.Delete(file);
            var watch = Stopwatch.StartNew();
            var facts = SyntheticSite.Build(db, patients);
            built = $"built in {watch.Elapsed.TotalSeconds:F1} s";
            Console.Error.WriteLine($"query bench: built {db}: {patients:N0} patients, {facts:N0} facts in {watch.Elapsed.TotalSeconds:F1} s");
        }
        else built = "reused from an earlier run";

        using var connection = SiteDatabase.Open(db, readOnly: true);
        var sids = Sids(connection);
        var evaluator = new CohortEvaluator(connection);
        int today = Days.From(Today);
        var load = Stopwatch.StartNew();
        evaluator.Evaluate(CohortQuery.Parse("""{"version":"2"}"""), today);
        var snapshot = load.ElapsedMilliseconds;
        var table = new System.Text.StringBuilder();
        table.AppendLine($"{patients:N0} patients, {Count(connection, "fact"):N0} facts, {new FileInfo(db).Length / 1e6:F0} MB ({built}); demographics snapshot loaded in {snapshot} ms; " +
                         $"each query: a first run, then {runs} warm runs for p50/p95, engine and SQL interleaved query by query; today = {Today:yyyy-MM-dd}.");
        table.AppendLine();
        table.AppendLine("| # | query | count | engine first run | engine p50 | engine p95 | SQL first run | SQL p50 | SQL p95 | engine / SQL (p50) |");
        table.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        bool allEqual = true;
        int n = 0;
        foreach (var (name, ccdl, sql) in BenchQueries.All(sids, Today))
        {
            n++;
            long engineCount = 0, sqlCount = 0;
            var engine = Time(runs, () => engineCount = evaluator.Evaluate(CohortQuery.Parse(ccdl), today).Count());
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            var hand = Time(runs, () => sqlCount = (long)command.ExecuteScalar()!);
            var same = engineCount == sqlCount;
            allEqual &= same;
            table.AppendLine($"| {n} | {name} | {engineCount:N0}{(same ? "" : $" (SQL {sqlCount:N0}!)")} | {Ms(engine.First)} | {Ms(engine.P50)} | {Ms(engine.P95)} | {Ms(hand.First)} | {Ms(hand.P50)} | {Ms(hand.P95)} | {engine.P50 / hand.P50:F2} |");
        }
        table.AppendLine();
        table.AppendLine(allEqual ? "Engine and hand-written SQL gave the same count on every query." : "MISMATCH between engine and hand-written SQL.");
        return (table.ToString(), allEqual);
    }

    static string Ms(double milliseconds) => milliseconds < 1 ? $"{milliseconds:F2} ms" : $"{milliseconds:F1} ms";

    static long Count(SqliteConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table}";
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>First run (cold statement and row-count caches; the page cache is whatever the
    /// previous queries left), then p50/p95 of warm runs.</summary>
    static (double First, double P50, double P95) Time(int runs, Action action)
    {
        var first = Stopwatch.StartNew();
        action();
        var firstRun = first.Elapsed.TotalMilliseconds;
        action();
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            action();
            times[i] = watch.Elapsed.TotalMilliseconds;
        }
        return (firstRun, Percentile.Of(times, 50), Percentile.Of(times, 95));
    }

    static bool Complete(string db, int patients)
    {
        using var connection = SiteDatabase.Open(db, readOnly: true);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT value FROM meta WHERE key = 'bench_patients') || '/' || IFNULL((SELECT value FROM meta WHERE key = 'bench_schema'), '1')";
        try { return command.ExecuteScalar() is string s && s == $"{patients.ToString(CultureInfo.InvariantCulture)}/{SyntheticSite.Schema}"; }
        catch (SqliteException) { return false; }
    }

    static Dictionary<string, long> Sids(SqliteConnection connection)
    {
        var sids = new Dictionary<string, long>();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT uri, sid FROM code_system";
        using var reader = command.ExecuteReader();
        while (reader.Read()) sids[reader.GetString(0)] = reader.GetInt64(1);
        return sids;
    }
}
