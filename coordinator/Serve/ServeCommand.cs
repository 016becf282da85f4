using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Midia.Coordinator.FanOut;
using Midia.Coordinator.Quota;
using Midia.Rpc.Hosting;
using Midia.Rpc.Tls;

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
        var listen = new Option<string?>("--listen") { Description = "HOST:PORT to serve on, e.g. 127.0.0.1:7000" };
        var cert = new Option<string?>("--cert") { Description = "The coordinator's certificate (PEM, role coordinator)" };
        var key = new Option<string?>("--key") { Description = "Its private key (PEM, mode 600)" };
        var ca = new Option<string?>("--ca") { Description = "The network CA (PEM): the only trust for nodes and users" };
        var db = new Option<string?>("--db") { Description = "The coordinator's SQLite file: query history and quotas (never patient data)" };
        var sites = new Option<string?>("--sites") { Description = "JSON file [{\"id\": \"erlangen\", \"address\": \"https://127.0.0.1:7101\"}, ...]; reloaded when it changes" };
        var command = new Command("serve", "Serve the Research API (federated counts, sites, quota, history) over mutual-TLS gRPC") { listen, cert, key, ca, db, sites };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var configuration = new ConfigurationBuilder()
                .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
                .AddEnvironmentVariables("MIDIA_")
                .Build();
            string Required(Option<string?> option, string key) =>
                parse.GetValue(option) ?? configuration[key] ?? throw new CommandException($"{option.Name} is required (or configuration '{key}' / MIDIA_{key.ToUpperInvariant()})");

            using var tls = TlsMaterial.Load(Required(cert, "Cert"), Required(key, "Key"), Required(ca, "Ca"));
            var settings = new CoordinatorSettings(ListenAddress.Parse(Required(listen, "Listen")), tls, Required(db, "Db"), Required(sites, "Sites"))
            {
                FanOut = configuration.GetSection("FanOut").Get<FanOutOptions>() ?? new FanOutOptions(),
                Quota = configuration.GetSection("Quota").Get<QuotaOptions>() ?? new QuotaOptions(),
                MinTotal = configuration.GetValue("Research:MinTotal", Research.CountAggregation.DefaultMinTotal),
            };
            using var loggers = RpcLogging.CreateConsoleFactory();
            await using var coordinator = await CoordinatorServer.StartAsync(settings, loggers, cancellationToken);
            Console.Error.WriteLine($"midia-coordinator: serving on {coordinator.Address.ToString().TrimEnd('/')} for {coordinator.Registry.Sites.Count} sites " +
                $"(deadline {FanOut.SiteConnection.Seconds(settings.FanOut.Deadline)}, quota {settings.Quota.PerMinute}/min and {settings.Quota.Per7Days}/7 days); Ctrl-C stops");
            try { await Task.Delay(Timeout.Infinite, cancellationToken); }
            catch (OperationCanceledException) { }
            return 0;
        });
        return command;
    }
}
