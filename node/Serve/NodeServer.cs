using System.Net;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Midia.Hosting;
using Midia.Node.Admin;
using Midia.Node.Audit;
using Midia.Node.Care;
using Midia.Node.Consent;
using Midia.Node.Linkage;
using Midia.Node.Patients;
using Midia.Node.Research;
using Midia.Node.Store;
using Midia.Node.Transparency;
using Midia.Trust;

namespace Midia.Node.Serve;

/// <summary>Everything `midia-node serve` needs, already loaded and checked.</summary>
public sealed record NodeSettings(string Site, string DbPath, IPEndPoint Listen, TlsMaterial Tls, Uri Coordinator, LinkageKey Linkage)
{
    /// <summary>Requests answered at once: one database session each (one per core by default).</summary>
    public int Sessions { get; init; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>
    /// Reads the flags (and MIDIA_ variables, appsettings.json) — --site, --db, --listen, --cert,
    /// --key, --ca, --coordinator, --linkage-key — and loads what they name; every problem names its flag.
    /// </summary>
    public static NodeSettings Load(IConfiguration configuration)
    {
        string Required(string key) => configuration[key] is { Length: > 0 } value ? value
            : throw new CommandException($"--{key.Replace('_', '-')} is required (or MIDIA_{key.ToUpperInvariant()})");
        var site = Required("site");
        var dbPath = Required("db");
        if (!File.Exists(dbPath)) throw new CommandException($"database {dbPath} does not exist (make it with `midia-node import`)");
        OwnerOnlyFile.Require(dbPath, "site database");
        var endpoint = ListenAddress.Parse(Required("listen"));
        var coordinatorUrl = Required("coordinator");
        if (!Uri.TryCreate(coordinatorUrl, UriKind.Absolute, out var coordinator) || coordinator.Scheme != "https")
            throw new CommandException($"--coordinator '{coordinatorUrl}' is not an https URL");
        var linkage = LinkageKey.Load(Required("linkage_key"));
        var tls = TlsMaterial.Load(Required("cert"), Required("key"), Required("ca"));
        try
        {
            if (tls.Identity.Role != "node") throw new CommandException($"--cert is a {tls.Identity.Role} certificate; a node serves with a node certificate");
            // The coordinator takes consent changes only in the certificate's site's name.
            if (tls.Identity.Site is { } certificateSite && certificateSite != site)
                throw new CommandException($"--cert is for site '{certificateSite}', not --site '{site}'");
        }
        catch
        {
            tls.Dispose();
            throw;
        }
        return new NodeSettings(site, dbPath, endpoint, tls, coordinator, linkage);
    }
}

/// <summary>
/// The node as `midia-node serve` runs it and the tests and benchmarks start it: the network
/// server (mutual TLS, health, reflection, authorization) with the site's services — research
/// queries, patient care, consent from the network, patients through their portal, site
/// administration — over one pool of database sessions, and the consent sync with the coordinator.
/// </summary>
public static class NodeServer
{
    /// <param name="configuration">Tunables (ConsentSync:Interval, ...); the settings are already read.</param>
    /// <param name="configure">Changes after the node's own registrations (tests: a clock, a faulty database, an in-memory server).</param>
    public static WebApplication Create(NodeSettings settings, IConfiguration? configuration = null, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "midia-node" });
        if (configuration is not null) builder.Configuration.AddConfiguration(configuration);
        builder.Logging.AddMidiaConsole();
        builder.AddNetworkServer(new NetworkServerOptions { Listen = settings.Listen, Tls = settings.Tls, Site = settings.Site });
        builder.Services.Configure<GrpcServiceOptions>(grpc => grpc.Interceptors.Add<StorageFaults>());
        builder.Services.AddSingleton<StorageFaults>();

        var node = builder.Services;
        node.AddSingleton(new NodeSite(settings.Site));
        node.AddSingleton(settings.Linkage);
        node.AddSingleton(_ => new SiteSessions(settings.DbPath, settings.Sessions));
        node.AddSingleton(_ => new NetworkConsent(settings.DbPath, settings.Site));
        node.AddSingleton(_ => new PatientTickets(TimeProvider.System));
        node.AddSingleton<PatientReports>();
        node.AddSingleton<IRefusalRecorder, AuditedRefusals>();
        // The coordinator, pinned: consent changes and patients' questions go to no one else.
        node.AddSingleton(_ => NetworkChannel.Open(settings.Coordinator, settings.Tls, new ServerPin("coordinator")));
        node.AddSingleton(p => new Protos.Consent.V1.ConsentLog.ConsentLogClient(p.GetRequiredService<NetworkChannel>().Invoker));
        node.AddSingleton(p => new Protos.Coordinator.V1.Care.CareClient(p.GetRequiredService<NetworkChannel>().Invoker));
        node.AddOptions<ConsentSyncOptions>().Bind(builder.Configuration.GetSection("ConsentSync"));
        node.AddSingleton<ConsentSync>();
        node.AddHostedService(p => p.GetRequiredService<ConsentSync>());
        node.AddSingleton<ResearchQueries>();
        node.AddSingleton<ConsentReceiver>();
        node.AddSingleton<PatientCare>();
        node.AddSingleton<PatientAccess>();
        node.AddSingleton<SiteAdmin>();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseNetworkServer();
        app.MapNetworkService<ResearchQueries>();
        app.MapNetworkService<ConsentReceiver>();
        app.MapNetworkService<PatientCare>();
        app.MapNetworkService<PatientAccess>();
        app.MapNetworkService<SiteAdmin>();
        return app;
    }
}
