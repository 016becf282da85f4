using System.CommandLine;
using Microsoft.Extensions.Logging;
using Midia.Node.Care;
using Midia.Node.Consent;
using Midia.Node.Research;
using Midia.Node.Store;
using Midia.Node.Transparency;
using Midia.Protos.Node.V1;
using Midia.Rpc.Client;
using Midia.Rpc.Hosting;
using Midia.Rpc.Server;
using Midia.Rpc.Tls;

namespace Midia.Node.Serve;

/// <summary>`midia-node serve`: the site's mTLS gRPC endpoint for the coordinator.</summary>
public static class ServeCommand
{
    public static Command Command()
    {
        var site = new Option<string>("--site") { HelpName = "ID", Description = "This site's id, as the coordinator's sites file names it" };
        var db = SiteDatabase.DbOption("The site's database (made by `midia-node import`; also MIDIA_DB)");
        var listen = new Option<string>("--listen") { HelpName = "HOST:PORT", Description = "Where to serve, e.g. 127.0.0.1:7101" };
        var cert = new Option<string>("--cert") { HelpName = "PEM", Description = "This node's certificate (role node)" };
        var key = new Option<string>("--key") { HelpName = "PEM", Description = "Its private key (mode 600)" };
        var ca = new Option<string>("--ca") { HelpName = "PEM", Description = "The network's CA bundle: the only trust anchor" };
        var coordinator = new Option<string>("--coordinator") { HelpName = "URL", Description = "The coordinator, e.g. https://127.0.0.1:7100" };
        var linkageKey = new Option<string>("--linkage-key") { HelpName = "FILE", Description = "The sites' shared linkage secret (>= 32 bytes, mode 600; never sent anywhere)" };
        var command = new Command("serve", "Serve this site's approved, consent-filtered, disclosure-controlled answers to the coordinator over mutual TLS")
        {
            site, db, listen, cert, key, ca, coordinator, linkageKey,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var siteId = Setting.Require(parse, site);
            var dbPath = Setting.Require(parse, db);
            if (!File.Exists(dbPath)) throw new CommandException($"database {dbPath} does not exist (make it with `midia-node import`)");
            OwnerOnlyFile.Require(dbPath, "site database");
            var endpoint = ListenAddress.Parse(Setting.Require(parse, listen));
            var coordinatorUrl = Setting.Require(parse, coordinator);
            if (!Uri.TryCreate(coordinatorUrl, UriKind.Absolute, out var coordinatorUri) || coordinatorUri.Scheme != "https")
                throw new CommandException($"--coordinator '{coordinatorUrl}' is not an https URL");
            var linkage = Linkage.LinkageKey.Load(Setting.Require(parse, linkageKey));
            using var tls = TlsMaterial.Load(Setting.Require(parse, cert), Setting.Require(parse, key), Setting.Require(parse, ca));
            if (tls.Identity.Role != "node") throw new CommandException($"--cert is a {tls.Identity.Role} certificate; a node serves with a node certificate");
            // The coordinator takes consent changes only in the certificate's site's name.
            if (tls.Identity.Site is { } certificateSite && certificateSite != siteId)
                throw new CommandException($"--cert is for site '{certificateSite}', not --site '{siteId}'");

            using var loggers = RpcLogging.CreateConsoleFactory();
            using var sessions = new SiteSessions(dbPath, Math.Max(2, Environment.ProcessorCount));
            await using var server = new RpcServer(new RpcServerOptions { Listen = endpoint, Tls = tls }, loggers);
            server.AddService(NodeReflection.Descriptor.Services[0], new ResearchQueries(siteId, sessions));
            // Network consent (issue 5): submit the outbox, pull what was missed, receive pushes.
            using var networkConsent = new NetworkConsent(dbPath, siteId);
            using var coordinatorChannel = RpcChannel.ForAddress(coordinatorUri, new RpcChannelOptions { Tls = tls, ServerRole = "coordinator" });
            await using var consentSync = new ConsentSync(networkConsent, linkage, coordinatorChannel.CreateCallInvoker(), loggers.CreateLogger("Midia.Node.Consent"));
            server.AddService(ConsentReceiver.Descriptor, new ConsentReceiver(networkConsent, consentSync));
            server.AddService(PatientCare.Descriptor, new PatientCare(siteId, sessions, linkage, new PatientReports(siteId, sessions)));
            // Patients through this site's portal (issue 10): consent changes take the consent set path.
            server.AddService(Patients.PatientAccess.Descriptor, new Patients.PatientAccess(siteId, sessions, linkage, consentSync, coordinatorChannel.CreateCallInvoker()));
            server.AddService(Admin.SiteAdmin.Descriptor, new Admin.SiteAdmin(siteId, sessions));
            await server.StartAsync(cancel);
            await server.RunUntilCancelledAsync(cancel);
            return 0;
        });
        return command;
    }
}
