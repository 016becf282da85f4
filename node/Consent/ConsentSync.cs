using Microsoft.Extensions.Logging;
using Midia.Node.Linkage;
using Midia.Protos.Consent.V1;
using Midia.Rpc.Client;
using Midia.Rpc.Core;

namespace Midia.Node.Consent;

/// <summary>
/// The running node's link to the network consent log, one background loop: gives every patient
/// without one a linkage pseudonym (at start and whenever the data version moves), submits the
/// outbox of `consent set` oldest first and records the seq the coordinator returns, and pulls
/// every change after the node's cursor at start, after the coordinator was unreachable, on a gap,
/// and every few seconds as a safety net. Never logs the key or an identifier.
/// </summary>
public sealed partial class ConsentSync : IAsyncDisposable
{
    static readonly Method<SubmitRequest, SubmitReply> Submit = Method<SubmitRequest, SubmitReply>.From(ConsentLog, "Submit");
    static readonly Method<PullRequest, PullReply> Pull = Method<PullRequest, PullReply>.From(ConsentLog, "Pull");
    static Google.Protobuf.Reflection.ServiceDescriptor ConsentLog => ConsentReflection.Descriptor.Services.Single(s => s.Name == "ConsentLog");

    readonly NetworkConsent store;
    readonly LinkageKey key;
    readonly CallInvoker coordinator;
    readonly ILogger logger;
    readonly CancellationTokenSource stop = new();
    readonly SemaphoreSlim wake = new(0);
    readonly Task loop;
    volatile bool pullNeeded = true;

    public ConsentSync(NetworkConsent store, LinkageKey key, CallInvoker coordinator, ILogger logger, TimeSpan? interval = null)
    {
        (this.store, this.key, this.coordinator, this.logger) = (store, key, coordinator, logger);
        Interval = interval ?? TimeSpan.FromMilliseconds(500);
        loop = Task.Run(RunAsync);
    }

    public TimeSpan Interval { get; }
    public TimeSpan PullEvery { get; init; } = TimeSpan.FromSeconds(5);

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

    async Task RunAsync()
    {
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
                    var reply = await coordinator.AsyncUnaryCall(Submit, Options(), new SubmitRequest { Changes = { unsent } }).ResponseAsync.ConfigureAwait(false);
                    if (reply.Seqs.Count != unsent.Count) throw new RpcException(StatusCode.Internal, $"the coordinator returned {reply.Seqs.Count} seqs for {unsent.Count} changes");
                    store.Logged(unsent, reply.Seqs);
                }
                if (pullNeeded || DateTime.UtcNow - lastPull > PullEvery)
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
                if (failures++ == 0) Log.Unreachable(logger, e.Message);
                pullNeeded = true;
            }
            catch (Exception e)
            {
                if (failures++ == 0) Log.Failed(logger, e.GetType().Name, e.Message);
                pullNeeded = true;
            }
            var delay = failures == 0 ? Interval : TimeSpan.FromMilliseconds(Math.Min(5000, Interval.TotalMilliseconds * (1 << Math.Min(failures, 4))));
            try { await wake.WaitAsync(delay, stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
    }

    async Task PullAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            var after = store.AppliedSeq();
            var reply = await coordinator.AsyncUnaryCall(Pull, Options(), new PullRequest { AfterSeq = after, Limit = 1000 }).ResponseAsync.ConfigureAwait(false);
            if (reply.Changes.Count == 0) return;
            var (applied, _) = store.Apply(reply.Changes);
            if (applied <= after || applied >= reply.LastSeq) return;
        }
    }

    CallOptions Options() => new(Deadline: DateTime.UtcNow.AddSeconds(10), CancellationToken: stop.Token);

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        try { await loop.ConfigureAwait(false); } catch (OperationCanceledException) { }
        stop.Dispose();
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
