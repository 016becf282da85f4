using Microsoft.Extensions.Logging;
using Midia.Coordinator.Sites;
using Midia.Rpc.Server;
using Midia.Rpc.Tls;

namespace Midia.Coordinator.Consent;

/// <summary>The coordinator's part of network consent: the log, its service, and the pushes to every site.</summary>
public sealed class ConsentNetwork : IAsyncDisposable
{
    ConsentNetwork(ConsentLogStore store, ConsentDistributor distributor) => (Store, Distributor) = (store, distributor);

    public ConsentLogStore Store { get; }
    public ConsentDistributor Distributor { get; }

    /// <summary>Opens the log in the coordinator's database, starts pushing, and adds the ConsentLog service to the (not yet started) server.</summary>
    public static ConsentNetwork Attach(RpcServer server, string dbPath, SiteRegistry registry, TlsMaterial tls, ILoggerFactory loggers)
    {
        var store = ConsentLogStore.Open(dbPath);
        var distributor = new ConsentDistributor(store, registry, tls, loggers.CreateLogger("Midia.Coordinator.Consent"));
        server.AddService(ConsentLogService.Descriptor, new ConsentLogService(store, distributor, registry));
        return new ConsentNetwork(store, distributor);
    }

    public long AppliedSequence(string site) => Distributor.AppliedSequence(site);

    public async ValueTask DisposeAsync()
    {
        await Distributor.DisposeAsync().ConfigureAwait(false);
        Store.Dispose();
    }
}
