using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Midia.Hosting;
using Midia.Node.Store;
using Midia.Trust;

namespace Midia.Node.Serve;

/// <summary>
/// `midia-node serve`: the site's mutual-TLS gRPC endpoint for the coordinator, until Ctrl-C / SIGTERM.
/// Every flag may also come from configuration (MIDIA_SITE, MIDIA_LINKAGE_KEY, appsettings.json),
/// and so may the tunables (ConsentSync:Interval).
/// </summary>
public static class ServeCommand
{
    public static Command Command()
    {
        var command = new Command("serve", "Serve this site's approved, consent-filtered, disclosure-controlled answers to the coordinator over mutual TLS")
        {
            new Option<string>("--site") { HelpName = "ID", Description = "This site's id, as the coordinator's sites file names it" },
            SiteDatabase.DbOption("The site's database (made by `midia-node import`; also MIDIA_DB)"),
            new Option<string>("--listen") { HelpName = "HOST:PORT", Description = "Where to serve, e.g. 127.0.0.1:7101" },
            new Option<string>("--cert") { HelpName = "PEM", Description = "This node's certificate (role node)" },
            new Option<string>("--key") { HelpName = "PEM", Description = "Its private key (mode 600)" },
            new Option<string>("--ca") { HelpName = "PEM", Description = "The network's CA bundle: the only trust anchor" },
            new Option<string>("--coordinator") { HelpName = "URL", Description = "The coordinator, e.g. https://127.0.0.1:7100" },
            new Option<string>("--linkage-key") { HelpName = "FILE", Description = "The sites' shared linkage secret (>= 32 bytes, mode 600; never sent anywhere)" },
        };
        command.SetAction(async (parse, cancel) =>
        {
            var configuration = new ConfigurationBuilder().AddMidiaSettings(parse).Build();
            var settings = NodeSettings.Load(configuration);
            using var tls = settings.Tls;
            await using var app = NodeServer.Create(settings, configuration);
            await app.StartNetworkServerAsync(cancel);
            await app.WaitForShutdownAsync(cancel);
            return 0;
        });
        return command;
    }
}
