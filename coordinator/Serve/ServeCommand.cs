using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Midia.Coordinator.Sites;
using Midia.Hosting;
using Midia.Trust;

namespace Midia.Coordinator.Serve;

/// <summary>
/// `midia-coordinator serve --listen HOST:PORT --cert PEM --key PEM --ca PEM --db FILE --sites FILE`.
/// Every flag may also come from configuration (appsettings.json, MIDIA_* variables: MIDIA_SITES,
/// MIDIA_FANOUT__DEADLINE=00:00:05, MIDIA_QUOTA__PERMINUTE=3, ...). Runs until Ctrl-C / SIGTERM.
/// </summary>
public static class ServeCommand
{
    public static Command Command()
    {
        var command = new Command("serve", "Serve the Research API (federated counts, sites, quota, history) over mutual-TLS gRPC")
        {
            new Option<string?>("--listen") { Description = "HOST:PORT to serve on, e.g. 127.0.0.1:7000" },
            new Option<string?>("--cert") { Description = "The coordinator's certificate (PEM, role coordinator)" },
            new Option<string?>("--key") { Description = "Its private key (PEM, mode 600)" },
            new Option<string?>("--ca") { Description = "The network CA (PEM): the only trust for nodes and users" },
            new Option<string?>("--db") { Description = "The coordinator's SQLite file: query history and quotas (never patient data)" },
            new Option<string?>("--sites") { Description = "JSON file [{\"id\": \"erlangen\", \"address\": \"https://127.0.0.1:7101\"}, ...]; reloaded when it changes" },
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = CoordinatorSettings.Load(new ConfigurationBuilder().AddMidiaSettings(parse).Build());
            using var tls = settings.Tls;
            await using var app = CoordinatorServer.Create(settings);
            var address = await app.StartNetworkServerAsync(cancellationToken);
            var sites = app.Services.GetRequiredService<SiteRegistry>().Sites.Count;
            Console.Error.WriteLine($"midia-coordinator: serving on {address.ToString().TrimEnd('/')} for {sites} sites " +
                $"(deadline {FanOut.SiteConnection.Seconds(settings.FanOut.Deadline)}, quota {settings.Quota.PerMinute}/min and {settings.Quota.Per7Days}/7 days); Ctrl-C stops");
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
