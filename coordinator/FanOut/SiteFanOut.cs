using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Midia.Coordinator.Sites;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Midia.Trust;

namespace Midia.Coordinator.FanOut;

/// <summary>
/// Asks every site at once and hands back each site's result the moment it is there. Each site
/// has its own <see cref="SiteConnection"/> (channel + resilience pipeline), kept across queries
/// and replaced only when the registry changes that site. A dead site costs at most the deadline
/// and never fails the query: its result says what happened.
/// </summary>
public sealed partial class SiteFanOut : IDisposable
{
    readonly SiteRegistry registry;
    readonly TlsMaterial tls;
    readonly FanOutOptions options;
    readonly TimeProvider time;
    readonly ILogger logger;
    readonly Lock swap = new();
    volatile IReadOnlyList<SiteConnection> connections;

    public SiteFanOut(SiteRegistry registry, TlsMaterial tls, FanOutOptions options, TimeProvider time, ILogger logger)
    {
        this.registry = registry;
        this.tls = tls;
        this.options = options;
        this.time = time;
        this.logger = logger;
        connections = registry.Sites.Select(Connect).ToList();
        registry.Changed += Update;
    }

    public FanOutOptions Options => options;
    public IReadOnlyList<SiteConnection> Connections => connections;

    /// <summary>Opens every site's connection in the background, so the first query does not pay the handshakes.</summary>
    public Task WarmUpAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(connections.Select(c => c.WarmUpAsync(cancellationToken)));

    public IAsyncEnumerable<SiteResult> CohortCountAsync(EndUser user, string queryId, string ccdlJson, CancellationToken cancellationToken) =>
        AskAllAsync((connection, ct) => connection.AskAsync("cohort-count",
            (site, options) => site.Research.CohortCountAsync(new CohortCountRequest { User = user, QueryId = queryId, CcdlJson = ccdlJson }, options),
            (reply, result) => { result.Count = reply.Count; result.CanonicalHash = reply.CanonicalHash; }, ct), cancellationToken);

    public IAsyncEnumerable<SiteResult> StratifiedCountAsync(EndUser user, string queryId, string ccdlJson, IEnumerable<string> stratifyBy, CancellationToken cancellationToken) =>
        AskAllAsync((connection, ct) => connection.AskAsync("stratified-count",
            (site, options) => site.Research.StratifiedCountAsync(new StratifiedCountRequest { User = user, QueryId = queryId, CcdlJson = ccdlJson, StratifyBy = { stratifyBy } }, options),
            (reply, result) => { result.Strata.AddRange(reply.Strata); result.CanonicalHash = reply.CanonicalHash; }, ct), cancellationToken);

    /// <summary>
    /// One unary RPC to every site of the registry, in parallel with the same deadline, retries and
    /// breakers as counts; each site's answer (reply or status and message) in arrival order.
    /// </summary>
    public IAsyncEnumerable<SiteAnswer<TReply>> AskEveryAsync<TReply>(string queryType, SiteCall<TReply> call, CancellationToken cancellationToken)
        where TReply : class =>
        AskAllAsync((connection, ct) => connection.CallAsync(queryType, call, ct), cancellationToken);

    /// <summary>The site's connection by id, or null when the registry does not list it.</summary>
    public SiteConnection? Connection(string siteId) => connections.FirstOrDefault(c => c.Site.Id == siteId);

    /// <summary>All sites in parallel (at most MaxConcurrentSites at once); results in arrival order.</summary>
    async IAsyncEnumerable<T> AskAllAsync<T>(Func<SiteConnection, CancellationToken, Task<T>> ask,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var sites = connections;
        var results = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true });
        // Not disposed: calls may still hold it after a cancelled reader walked away (it has no wait handle to leak).
        var slots = new SemaphoreSlim(Math.Max(1, options.MaxConcurrentSites));
        var calls = sites.Select(async connection =>
        {
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try { results.Writer.TryWrite(await ask(connection, cancellationToken).ConfigureAwait(false)); }
            finally { slots.Release(); }
        }).ToList();
        _ = Task.WhenAll(calls).ContinueWith(t => results.Writer.TryComplete(t.Exception), TaskScheduler.Default);
        await foreach (var result in results.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            yield return result;
    }

    SiteConnection Connect(Site site) => new(site, tls, options, time);

    void Update(IReadOnlyList<Site> sites)
    {
        List<SiteConnection> retired;
        lock (swap)
        {
            var old = connections;
            var next = sites.Select(site => old.FirstOrDefault(c => c.Site == site) ?? Connect(site)).ToList();
            retired = old.Where(c => !next.Contains(c)).ToList();
            connections = next;
        }
        _ = WarmUpAsync(CancellationToken.None);
        // Calls already under way on a retired connection may finish; close it a little later.
        if (retired.Count > 0)
            _ = Task.Delay(options.Deadline * 2, time).ContinueWith(_ => retired.ForEach(c => c.Dispose()), TaskScheduler.Default);
    }

    public void Dispose()
    {
        registry.Changed -= Update;
        foreach (var connection in connections) connection.Dispose();
    }
}
