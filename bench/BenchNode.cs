using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Midia.Node.Consent;
using Midia.Node.Linkage;
using Midia.Node.Serve;
using Midia.Node.Store;
using Midia.Trust;

namespace Midia.Bench;

/// <summary>
/// One site's node in the benchmark's process, wired exactly as `midia-node serve` wires it
/// (<see cref="NodeServer.Create"/>: Kestrel on a loopback port of its own, mutual TLS, every
/// service, the consent sync with the coordinator), plus a consent desk that writes to its outbox
/// as `consent set` does and wakes the sync as an in-process `consent set` would.
/// </summary>
sealed class BenchNode : IAsyncDisposable
{
    readonly Running server;
    readonly SqliteConnection desk;
    readonly ConsentLedger ledger;

    BenchNode(Running server, SqliteConnection desk)
    {
        (this.server, this.desk) = (server, desk);
        ledger = new ConsentLedger(desk);
    }

    public Uri Address => server.Address;
    public NetworkConsent Consent => server.Service<NetworkConsent>();

    /// <summary>The node of <paramref name="site"/> over <paramref name="db"/> (which must exist), listening on a free port.</summary>
    public static async Task<BenchNode> StartAsync(string site, string db, Uri coordinator, TlsMaterial tls, LinkageKey key, Action<WebApplicationBuilder>? configure = null)
    {
        var server = await Loopback.StartNodeAsync(new NodeSettings(site, db, new IPEndPoint(IPAddress.Loopback, 0), tls, coordinator, key), configure);
        return new BenchNode(server, SiteDatabase.Open(db));
    }

    /// <summary>
    /// Once the coordinator listens: the node's consent sync runs at once — a node started first
    /// found nobody there and backs off — so no measurement starts in that backoff.
    /// </summary>
    public void CoordinatorListening() => server.Service<ConsentSync>().Wake();

    /// <summary>`consent set`: the research-consent change written to the outbox, the sync woken.</summary>
    public void Record(long pid, bool permit)
    {
        lock (ledger) ledger.Record(pid, ConsentPolicies.Research, permit, Days.Today(), null);
        server.Service<ConsentSync>().Wake();
    }

    public async ValueTask DisposeAsync()
    {
        await server.DisposeAsync();
        desk.Dispose();
    }
}
