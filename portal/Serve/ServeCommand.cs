using System.CommandLine;
using Midia.Portal.Accounts;
using Midia.Hosting;
using Midia.Trust;

namespace Midia.Portal.Serve;

/// <summary>`midia-portal serve`: one site's web portal, a gRPC client of the coordinator and of that site's node.</summary>
public static class ServeCommand
{
    public static Command Command()
    {
        var listen = new Option<string>("--listen") { HelpName = "HOST:PORT", Description = "Where browsers reach the portal (HTTPS), e.g. 127.0.0.1:7201" };
        var coordinator = new Option<string>("--coordinator") { HelpName = "URL", Description = "The coordinator, e.g. https://127.0.0.1:7100" };
        var node = new Option<string>("--node") { HelpName = "URL", Description = "This site's node, e.g. https://127.0.0.1:7101" };
        var ca = new Option<string>("--ca") { HelpName = "PEM", Description = "The network's CA bundle: the only trust anchor" };
        var cert = new Option<string>("--cert") { HelpName = "PEM", Description = "The portal's certificate (role portal, this site); also its HTTPS certificate" };
        var key = new Option<string>("--key") { HelpName = "PEM", Description = "Its private key (mode 600)" };
        var accounts = new Option<string>("--accounts") { HelpName = "FILE", Description = "Local accounts (`midia-portal accounts add`; mode 600)" };
        var site = new Option<string>("--site") { HelpName = "ID", Description = "This portal's site" };
        var command = new Command("serve", "Serve the site's web portal over HTTPS") { listen, coordinator, node, ca, cert, key, accounts, site };
        command.SetAction(async (parse, cancel) =>
        {
            var siteId = Setting.Require(parse, site);
            var endpoint = ListenAddress.Parse(Setting.Require(parse, listen));
            var coordinatorUri = HttpsUrl(Setting.Require(parse, coordinator), "--coordinator");
            var nodeUri = HttpsUrl(Setting.Require(parse, node), "--node");
            var accountsStore = new AccountStore(Setting.Require(parse, accounts));
            accountsStore.Read();   // a missing, unreadable or world-readable file stops the start, not the first sign-in
            using var tls = TlsMaterial.Load(Setting.Require(parse, cert), Setting.Require(parse, key), Setting.Require(parse, ca));
            if (tls.Identity.Role != "portal") throw new CommandException($"--cert is a {tls.Identity.Role} certificate; the portal needs a portal certificate");
            if (tls.Identity.Site != siteId) throw new CommandException($"--cert is for site '{tls.Identity.Site ?? "(none)"}', not --site '{siteId}'");

            using var loggers = ConsoleLogging.CreateFactory();
            await using var portal = await PortalServer.StartAsync(new PortalSettings(endpoint, tls, coordinatorUri, nodeUri, accountsStore.Path, siteId), loggers, cancel);
            Console.Out.WriteLine($"portal of site {siteId} on {portal.Address}");
            try { await Task.Delay(Timeout.Infinite, cancel); }
            catch (OperationCanceledException) { }
            return 0;
        });
        return command;
    }

    static Uri HttpsUrl(string text, string flag) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme == "https" ? uri : throw new CommandException($"{flag} '{text}' is not an https URL");
}
