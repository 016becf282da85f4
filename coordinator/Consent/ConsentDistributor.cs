using Microsoft.Extensions.Logging;
using Midia.Coordinator.Sites;
using Midia.Protos.Consent.V1;
using Grpc.Core;
using Midia.Trust;

namespace Midia.Coordinator.Consent;

/// <summary>
/// Pushes the consent log to every site of the registry, one loop per site so a slow or dead node
/// holds up no other: sends the changes after the site's acknowledged seq in order, records what
/// the node says it holds, retries with exponential backoff (capped, jittered) until it answers.
/// A restarted coordinator resumes from the acknowledgements in its database.
/// </summary>
public sealed partial class ConsentDistributor : IAsyncDisposable
{
    const int Batch = 500;

    readonly ConsentLogStore store;
    readonly SiteRegistry registry;
    readonly TlsMaterial tls;
    readonly ILogger logger;
    readonly Lock gate = new();
    readonly Dictionary<string, SitePusher> pushers = [];
    bool disposed;

    public ConsentDistributor(ConsentLogStore store, SiteRegistry registry, TlsMaterial tls, ILogger logger)
    {
        (this.store, this.registry, this.tls, this.logger) = (store, registry, tls, logger);
        registry.Changed += Reconcile;
        Reconcile(registry.Sites);
    }

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The highest seq the site holds with every lower one, as it last acknowledged.</summary>
    public long AppliedSequence(string site)
    {
        lock (gate) if (pushers.TryGetValue(site, out var pusher)) return pusher.Acknowledged;
        return store.Acknowledged(site);
    }

    /// <summary>A change was logged: every site's loop looks now.</summary>
    public void Notify()
    {
        lock (gate) foreach (var pusher in pushers.Values) pusher.Wake();
    }

    void Reconcile(IReadOnlyList<Site> sites)
    {
        List<SitePusher> retired = [];
        lock (gate)
        {
            if (disposed) return;
            foreach (var (id, pusher) in pushers.ToList())
                if (!sites.Any(s => s.Id == id && s.Address == pusher.Site.Address)) { retired.Add(pusher); pushers.Remove(id); }
            foreach (var site in sites)
                if (!pushers.ContainsKey(site.Id)) pushers[site.Id] = new SitePusher(this, site);
        }
        foreach (var pusher in retired) _ = pusher.DisposeAsync().AsTask();
    }

    public async ValueTask DisposeAsync()
    {
        registry.Changed -= Reconcile;
        List<SitePusher> all;
        lock (gate)
        {
            disposed = true;
            all = [.. pushers.Values];
            pushers.Clear();
        }
        foreach (var pusher in all) await pusher.DisposeAsync().ConfigureAwait(false);
    }

    sealed class SitePusher : IAsyncDisposable
    {
        readonly ConsentDistributor owner;
        readonly NetworkChannel channel;
        readonly ConsentReceiver.ConsentReceiverClient node;
        readonly CancellationTokenSource stop = new();
        readonly SemaphoreSlim wake = new(0);
        readonly Task loop;
        long acknowledged;

        public SitePusher(ConsentDistributor owner, Site site)
        {
            this.owner = owner;
            Site = site;
            acknowledged = owner.store.Acknowledged(site.Id);
            channel = NetworkChannel.Open(site.Address, owner.tls, new ServerPin("node", site.Id));
            node = new ConsentReceiver.ConsentReceiverClient(channel.Invoker);
            loop = Task.Run(RunAsync);
        }

        public Site Site { get; }
        public long Acknowledged => Interlocked.Read(ref acknowledged);

        public void Wake()
        {
            if (wake.CurrentCount == 0) wake.Release();
        }

        async Task RunAsync()
        {
            var failures = 0;
            while (!stop.IsCancellationRequested)
            {
                var wait = TimeSpan.FromSeconds(1);
                try
                {
                    if (owner.store.LastSeq > Acknowledged)
                    {
                        var changes = owner.store.After(Acknowledged, Batch);
                        var request = new ApplyRequest();
                        request.Changes.AddRange(changes);
                        var reply = await node.ApplyAsync(request, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: stop.Token).ConfigureAwait(false);
                        var before = Acknowledged;
                        owner.store.Acknowledge(Site.Id, reply.AppliedSeq);
                        Interlocked.Exchange(ref acknowledged, reply.AppliedSeq);
                        if (failures > 0) Log.Reachable(owner.logger, Site.Id, reply.AppliedSeq);
                        failures = 0;
                        // Progress: go on at once; a node that holds less than it was sent is resent from its cursor.
                        if (reply.AppliedSeq != before) continue;
                        wait = TimeSpan.FromMilliseconds(200);
                    }
                }
                catch (Exception) when (stop.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception e)
                {
                    // Unreachable, refused or failing: the same answer — back off and try again, from the acknowledged seq.
                    if (failures++ == 0) Log.Unreachable(owner.logger, Site.Id, e is RpcException r ? r.Problem() : e.Message);
                    var backoff = Math.Min(owner.MaxBackoff.TotalMilliseconds, 50 * Math.Pow(2, Math.Min(failures, 10)));
                    await Pause(TimeSpan.FromMilliseconds(backoff * (0.5 + Random.Shared.NextDouble() / 2)), wakeable: false).ConfigureAwait(false);
                    continue;
                }
                await Pause(wait, wakeable: true).ConfigureAwait(false);
            }
        }

        async Task Pause(TimeSpan delay, bool wakeable)
        {
            try
            {
                if (wakeable) await wake.WaitAsync(delay, stop.Token).ConfigureAwait(false);
                else await Task.Delay(delay, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { }
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try { await loop.ConfigureAwait(false); } catch (OperationCanceledException) { }
            channel.Dispose();
            stop.Dispose();
            wake.Dispose();
        }
    }

    static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "consent: site {Site} unreachable ({Problem}); retrying with backoff")]
        public static partial void Unreachable(ILogger logger, string site, string problem);

        [LoggerMessage(2, LogLevel.Information, "consent: site {Site} reachable again, holds seq {Seq}")]
        public static partial void Reachable(ILogger logger, string site, long seq);
    }
}
