using System.Net;
using Microsoft.Extensions.Logging;
using Midia.Coordinator.Care;
using Midia.Coordinator.FanOut;
using Midia.Coordinator.History;
using Midia.Coordinator.Projects;
using Midia.Coordinator.Quota;
using Midia.Coordinator.Research;
using Midia.Coordinator.Sites;
using Midia.Rpc.Server;
using Midia.Rpc.Tls;

namespace Midia.Coordinator.Serve;

/// <summary>Everything `midia-coordinator serve` needs, already validated.</summary>
public sealed record CoordinatorSettings(IPEndPoint Listen, TlsMaterial Tls, string DbPath, string SitesPath)
{
    public FanOutOptions FanOut { get; init; } = new();
    public QuotaOptions Quota { get; init; } = new();
    /// <summary>Totals below this are not shown (MII feasibility portal: 3).</summary>
    public long MinTotal { get; init; } = CountAggregation.DefaultMinTotal;
}

/// <summary>
/// The running coordinator: site registry (watched), fan-out with one warm connection per site,
/// query history and quotas in its SQLite file, and the Research service on a mutual-TLS gRPC
/// server with health and reflection. Used by `serve`, by the end-to-end tests and the benchmark.
/// </summary>
public sealed class CoordinatorServer : IAsyncDisposable
{
    readonly RpcServer server;

    CoordinatorServer(RpcServer server, SiteRegistry registry, SiteFanOut fanOut)
    {
        this.server = server;
        Registry = registry;
        FanOut = fanOut;
    }

    public Uri Address => server.Address;
    public SiteRegistry Registry { get; }
    public SiteFanOut FanOut { get; }
    public Midia.Coordinator.Consent.ConsentNetwork? Consent { get; private init; }

    public static async Task<CoordinatorServer> StartAsync(CoordinatorSettings settings, ILoggerFactory loggers, CancellationToken cancellationToken = default)
    {
        var time = TimeProvider.System;
        // No patient data, but the consent log's pseudonyms and who asked what: owner-only (mode 600) from the start.
        Midia.Rpc.Hosting.OwnerOnlyFile.CreateIfMissing(settings.DbPath);
        var registry = SiteRegistry.Open(settings.SitesPath, loggers.CreateLogger("Midia.Coordinator.Sites"));
        var fanOut = new SiteFanOut(registry, settings.Tls, settings.FanOut, time, loggers.CreateLogger("Midia.Coordinator.FanOut"));
        var history = QueryHistory.Open(settings.DbPath);
        var quota = new ResearcherQuota(history, settings.Quota, time);
        var projects = ProjectRegistry.Open(settings.DbPath);
        var server = new RpcServer(new RpcServerOptions { Listen = settings.Listen, Tls = settings.Tls }, loggers);
        var consent = Midia.Coordinator.Consent.ConsentNetwork.Attach(server, settings.DbPath, registry, settings.Tls, loggers);
        server.AddService(ResearchService.Descriptor, new ResearchService(registry, fanOut, history, quota, settings.Quota, time) { MinTotal = settings.MinTotal, AppliedConsentSequence = consent.AppliedSequence, Projects = projects });
        server.AddService(ProjectsService.Descriptor, new ProjectsService(projects, time));
        server.AddService(CareService.Descriptor, new CareService(registry, fanOut, time, loggers.CreateLogger("Midia.Coordinator.Care"))
        {
            Reports = new Midia.Coordinator.Transparency.PatientReports(settings.DbPath, fanOut, projects, time, loggers.CreateLogger("Midia.Coordinator.Transparency")),
        });
        await server.StartAsync(cancellationToken).ConfigureAwait(false);
        _ = fanOut.WarmUpAsync(CancellationToken.None);
        return new CoordinatorServer(server, registry, fanOut) { Consent = consent };
    }

    public async ValueTask DisposeAsync()
    {
        await server.DisposeAsync().ConfigureAwait(false);
        if (Consent is not null) await Consent.DisposeAsync().ConfigureAwait(false);
        FanOut.Dispose();
        Registry.Dispose();
    }
}
