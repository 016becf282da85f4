using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Midia.Node.Linkage;
using Midia.Protos.Consent.V1;
using Midia.Trust;

namespace Midia.Node.Consent;

/// <summary>
/// The running node's link to the network consent log, one background loop: gives every patient
/// without one a linkage pseudonym (at start and whenever the data version moves), submits the
/// outbox of `consent set` oldest first and records the seq the coordinator returns, and pulls
/// every change after the node's cursor at start, after the coordinator was unreachable, on a gap,
/// and every few seconds as a safety net. Never logs the key or an identifier.
/// </summary>
public sealed partial class ConsentSync(NetworkConsent store, LinkageKey key, ConsentLog.ConsentLogClient coordinator, ILogger<ConsentSync> logger, IOptions<ConsentSyncOptions> options)
    : BackgroundService
{
    readonly SemaphoreSlim wake = new(0);
    volatile bool pullNeeded = true;
    CancellationToken stop;

    TimeSpan Interval => options.Value.Interval;

    /// <summary>Look at the outbox now rather than at the next tick (in-process `consent set`, tests, benchmark).</summary>
    public void Wake()
    {
        if (wake.CurrentCount == 0) wake.Release();
    }

    /// <summary>A gap was seen: pull from the cursor at once.</summary>
    public void RequestPull()
    {
        pullNeeded = true;
        Wake();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        stop = stoppingToken;
        await Task.Yield();
        long seenVersion = -1;
        var lastPull = DateTime.MinValue;
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (store.DataVersion() is var version && version != seenVersion)
                {
                    var filled = store.FillLinkage(key);
                    if (filled > 0) Log.Linked(logger, filled);
                    seenVersion = store.DataVersion();
                }
                while (store.Unsent(key, 500) is { Count: > 0 } unsent)
                {
                    var reply = await coordinator.SubmitAsync(new SubmitRequest { Changes = { unsent } }, deadline: Deadline(), cancellationToken: stop).ConfigureAwait(false);
                    if (reply.Seqs.Count != unsent.Count) throw new RpcException(new Status(StatusCode.Internal, $"the coordinator returned {reply.Seqs.Count} seqs for {unsent.Count} changes"));
                    store.Logged(unsent, reply.Seqs);
                }
                if (pullNeeded || DateTime.UtcNow - lastPull > options.Value.PullEvery)
                {
                    pullNeeded = false;
                    lastPull = DateTime.UtcNow;
                    await PullAsync().ConfigureAwait(false);
                }
                if (failures > 0) Log.Reconnected(logger, failures);
                failures = 0;
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is RpcException or IOException or HttpRequestException or OperationCanceledException or TimeoutException)
            {
                // Unreachable coordinator: keep the outbox, pull everything once it answers again.
                if (failures++ == 0) Log.Unreachable(logger, e is RpcException r ? r.Problem() : e.Message);
                pullNeeded = true;
            }
            catch (Exception e)
            {
                if (failures++ == 0) Log.Failed(logger, e.GetType().Name, e.Message);
                pullNeeded = true;
            }
            var delay = failures == 0 ? Interval : TimeSpan.FromMilliseconds(Math.Min(5000, Interval.TotalMilliseconds * (1 << Math.Min(failures, 4))));
            try { await wake.WaitAsync(delay, stop).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
    }

    async Task PullAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            var after = store.AppliedSeq();
            var reply = await coordinator.PullAsync(new PullRequest { AfterSeq = after, Limit = 1000 }, deadline: Deadline(), cancellationToken: stop).ConfigureAwait(false);
            if (reply.Changes.Count == 0) return;
            var (applied, _) = store.Apply(reply.Changes);
            if (applied <= after || applied >= reply.LastSeq) return;
        }
    }

    static DateTime Deadline() => DateTime.UtcNow.AddSeconds(10);

    public override void Dispose()
    {
        base.Dispose();
        wake.Dispose();
    }

    static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "consent sync: linkage pseudonyms set for {Count} patients")]
        public static partial void Linked(ILogger logger, int count);

        [LoggerMessage(2, LogLevel.Warning, "consent sync: coordinator unreachable ({Problem}); changes stay in the outbox, retrying")]
        public static partial void Unreachable(ILogger logger, string problem);

        [LoggerMessage(3, LogLevel.Information, "consent sync: coordinator reachable again after {Failures} attempts; catching up")]
        public static partial void Reconnected(ILogger logger, int failures);

        [LoggerMessage(4, LogLevel.Error, "consent sync: {Kind}: {Problem}")]
        public static partial void Failed(ILogger logger, string kind, string problem);
    }
}

/// <summary>How often the node looks at its outbox and pulls the log (tests and the benchmark go faster).</summary>
public sealed class ConsentSyncOptions
{
    public TimeSpan Interval { get; set; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan PullEvery { get; set; } = TimeSpan.FromSeconds(5);
}
