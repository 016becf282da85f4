using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Midia.Coordinator.Care;
using Midia.Coordinator.Consent;
using Midia.Coordinator.FanOut;
using Midia.Coordinator.History;
using Midia.Coordinator.Projects;
using Midia.Coordinator.Quota;
using Midia.Coordinator.Research;
using Midia.Coordinator.Sites;
using Midia.Hosting;
using Midia.Trust;

namespace Midia.Coordinator.Serve;

/// <summary>Everything `midia-coordinator serve` needs, already loaded and checked.</summary>
public sealed record CoordinatorSettings(IPEndPoint Listen, TlsMaterial Tls, string DbPath, string SitesPath)
{
    public FanOutOptions FanOut { get; init; } = new();
    public QuotaOptions Quota { get; init; } = new();
    public ResearchOptions Research { get; init; } = new();

    /// <summary>
    /// Reads the flags (and MIDIA_ variables, appsettings.json) — --listen, --cert, --key, --ca,
    /// --db, --sites — and the tunables' sections FanOut, Quota and Research.
    /// </summary>
    public static CoordinatorSettings Load(IConfiguration configuration)
    {
        string Required(string key) => configuration[key] is { Length: > 0 } value ? value
            : throw new CommandException($"--{key} is required (or MIDIA_{key.ToUpperInvariant()})");
        var listen = ListenAddress.Parse(Required("listen"));
        var (db, sites) = (Required("db"), Required("sites"));
        return new CoordinatorSettings(listen, TlsMaterial.Load(Required("cert"), Required("key"), Required("ca")), db, sites)
        {
            FanOut = configuration.GetSection("FanOut").Get<FanOutOptions>() ?? new(),
            Quota = configuration.GetSection("Quota").Get<QuotaOptions>() ?? new(),
            Research = configuration.GetSection("Research").Get<ResearchOptions>() ?? new(),
        };
    }
}

/// <summary>
/// The coordinator as `serve` runs it and the tests and benchmarks start it: the site registry
/// (watched), fan-out with one warm connection per site, query history, quotas, projects and the
/// consent log in its SQLite file, consent pushes to every site, and the Research, Care, Projects
/// and ConsentLog services on the network server (mutual TLS, health, reflection, authorization).
/// </summary>
public static class CoordinatorServer
{
    /// <param name="configure">Changes after the coordinator's own registrations (tests: a clock, an in-memory server).</param>
    public static WebApplication Create(CoordinatorSettings settings, Action<WebApplicationBuilder>? configure = null)
    {
        // No patient data, but the consent log's pseudonyms and who asked what: owner-only (mode 600) from the start.
        OwnerOnlyFile.CreateIfMissing(settings.DbPath);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "midia-coordinator" });
        builder.Logging.AddMidiaConsole();
        builder.AddNetworkServer(new NetworkServerOptions { Listen = settings.Listen, Tls = settings.Tls });

        var coordinator = builder.Services;
        coordinator.AddSingleton(TimeProvider.System);
        coordinator.AddSingleton(Options.Create(settings.FanOut));
        coordinator.AddSingleton(Options.Create(settings.Quota));
        coordinator.AddSingleton(Options.Create(settings.Research));
        coordinator.AddSingleton(p => SiteRegistry.Open(settings.SitesPath, p.GetRequiredService<ILogger<SiteRegistry>>()));
        coordinator.AddSingleton(p => new SiteFanOut(p.GetRequiredService<SiteRegistry>(), settings.Tls, settings.FanOut, p.GetRequiredService<TimeProvider>(), p.GetRequiredService<ILogger<SiteFanOut>>()));
        coordinator.AddSingleton(_ => QueryHistory.Open(settings.DbPath));
        coordinator.AddSingleton(p => new ResearcherQuota(p.GetRequiredService<QueryHistory>(), settings.Quota, p.GetRequiredService<TimeProvider>()));
        coordinator.AddSingleton(_ => ProjectRegistry.Open(settings.DbPath));
        coordinator.AddSingleton(_ => ConsentLogStore.Open(settings.DbPath));
        coordinator.AddSingleton(p => new ConsentDistributor(p.GetRequiredService<ConsentLogStore>(), p.GetRequiredService<SiteRegistry>(), settings.Tls, p.GetRequiredService<ILogger<ConsentDistributor>>()));
        coordinator.AddSingleton(p => new Transparency.PatientReports(settings.DbPath, p.GetRequiredService<SiteFanOut>(), p.GetRequiredService<ProjectRegistry>(),
            p.GetRequiredService<TimeProvider>(), p.GetRequiredService<ILogger<Transparency.PatientReports>>()));
        coordinator.AddSingleton<ResearchService>();
        coordinator.AddSingleton<CareService>();
        coordinator.AddSingleton<ProjectsService>();
        coordinator.AddSingleton<ConsentLogService>();
        // Open every site's connection (handshakes included) before the first query needs it; start pushing consent.
        coordinator.AddHostedService<Startup>();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseNetworkServer();
        app.MapNetworkService<ResearchService>();
        app.MapNetworkService<CareService>();
        app.MapNetworkService<ProjectsService>();
        app.MapNetworkService<ConsentLogService>();
        return app;
    }

    sealed class Startup(SiteFanOut fanOut, ConsentDistributor consent) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = consent; // created now: its loops push the log to every site from the start
            _ = fanOut.WarmUpAsync(CancellationToken.None);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
