using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Midia.CertsDev;
using Midia.Consent.Tests.Support;
using Midia.Coordinator.Serve;
using Midia.Hosting;
using Midia.Node.Consent;
using Midia.Node.Disclosure;
using Midia.Node.Linkage;
using Midia.Node.Policy;
using Midia.Node.Serve;
using Midia.Node.Store;
using Midia.Portal.Accounts;
using Midia.Portal.Serve;
using Midia.Trust;

namespace Midia.Portal.Tests.Support;

/// <summary>
/// A throw-away network on loopback with mutual TLS: the real coordinator, real nodes wired as
/// `midia-node serve` wires them, each with its own SQLite file, and a real portal (Kestrel,
/// HTTPS) per site that asks for one, with its accounts file. Ports are picked free.
/// </summary>
public sealed class PortalTestNetwork : IAsyncDisposable
{
    /// <summary>Cheap hashes for tests (the minimum the store accepts), so sign-ins do not dominate the run.</summary>
    public const int TestIterations = PasswordHash.MinimumIterations;
    public const string Password = "correct horse battery";
    readonly List<IDisposable> disposables = [];

    public PortalTestNetwork(params string[] sites)
    {
        Directory.CreateDirectory(Folder);
        foreach (var site in sites) Nodes.Add(new TestSite(this, site));
        PickPorts();
    }

    /// <summary>Free ports for the coordinator and every node, and the sites file that names them.</summary>
    void PickPorts()
    {
        CoordinatorPort = LoopbackPorts.Free();
        foreach (var node in Nodes) node.Port = LoopbackPorts.Free();
        File.WriteAllText(SitesFile, JsonSerializer.Serialize(Nodes.Select(n => new { id = n.Site, address = n.Address })));
    }

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "midia-portal-tests-" + Guid.NewGuid().ToString("N")[..12]);
    public X509Certificate2 Authority { get; } = DevCertificates.CreateAuthority("Portal Tests CA");
    public LinkageKey Key { get; } = LinkageKey.FromSecret("a test linkage secret of at least thirty-two bytes"u8);
    public int CoordinatorPort { get; private set; }
    public Uri CoordinatorAddress => new($"https://127.0.0.1:{CoordinatorPort}");
    public string SitesFile => Path.Combine(Folder, "sites.json");
    public List<TestSite> Nodes { get; } = [];
    public WebApplication? Coordinator { get; private set; }

    public TestSite this[string site] => Nodes.Single(n => n.Site == site);

    public TlsMaterial Material(string role, string name, string? site = null, X509Certificate2? authority = null)
    {
        using var certificate = DevCertificates.Issue(authority ?? Authority, role, name, site);
        var material = new TlsMaterial(certificate, [X509CertificateLoader.LoadCertificate(Authority.RawData)]);
        lock (disposables) disposables.Add(material);
        return material;
    }

    /// <summary>A certificate with its key, as a browser would hold it.</summary>
    public X509Certificate2 Certificate(string role, string name, string? site = null, X509Certificate2? authority = null)
    {
        using var issued = DevCertificates.Issue(authority ?? Authority, role, name, site);
        var certificate = X509CertificateLoader.LoadPkcs12(issued.Export(X509ContentType.Pkcs12), null);
        lock (disposables) disposables.Add(certificate);
        return certificate;
    }

    /// <summary>
    /// Starts the coordinator and every node. Test processes run side by side, so a port picked free
    /// may be taken before it is bound: then everything stops and starts again on new ports.
    /// </summary>
    public async Task StartAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartOnceAsync();
                return;
            }
            catch (CommandException e) when (attempt < 5 && e.Message.Contains("already in use", StringComparison.Ordinal))
            {
                foreach (var node in Nodes) await node.StopAsync();
                await StopCoordinatorAsync();
                PickPorts();
            }
        }
    }

    async Task StartOnceAsync()
    {
        var settings = new CoordinatorSettings(new IPEndPoint(IPAddress.Loopback, CoordinatorPort), Material("coordinator", "coordinator"), Path.Combine(Folder, "coordinator.db"), SitesFile);
        var coordinator = CoordinatorServer.Create(settings, Quiet);
        try { await coordinator.StartNetworkServerAsync(); }
        catch
        {
            await coordinator.DisposeAsync();
            throw;
        }
        Coordinator = coordinator;
        foreach (var node in Nodes) await node.StartAsync();
    }

    /// <summary>Servers of the tests log nothing to the test's console.</summary>
    internal static void Quiet(WebApplicationBuilder builder) => builder.Logging.ClearProviders();

    async Task StopCoordinatorAsync()
    {
        if (Coordinator is null) return;
        await Coordinator.StopAsync();
        await Coordinator.DisposeAsync();
        Coordinator = null;
    }

    /// <summary>The coordinator's network consent log as its SQLite file holds it: "origin policy permit|deny" in seq order.</summary>
    public List<string> ConsentLog()
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(Folder, "coordinator.db"), Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT origin_site, policy, permit FROM consent_log ORDER BY seq";
        using var reader = command.ExecuteReader();
        var log = new List<string>();
        while (reader.Read()) log.Add($"{reader.GetString(0)} {reader.GetString(1)} {(reader.GetInt64(2) != 0 ? "permit" : "deny")}");
        return log;
    }

    /// <summary>A gRPC client of the coordinator, or with <paramref name="node"/> of that site's node: the invoker for a generated client.</summary>
    public CallInvoker Client(TlsMaterial tls, string? node = null)
    {
        var channel = NetworkChannel.Open(node is null ? CoordinatorAddress : new Uri(this[node].Address), tls);
        lock (disposables) disposables.Add(channel);
        return channel.Invoker;
    }

    /// <summary>Call options with the tests' deadline (and, for a portal's call, the end user's metadata).</summary>
    public static CallOptions Deadline(int seconds = 60, Metadata? headers = null) => new(headers: headers, deadline: DateTime.UtcNow.AddSeconds(seconds));

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes) await node.StopAsync();
        await StopCoordinatorAsync();
        foreach (var d in disposables) d.Dispose();
        Authority.Dispose();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>One site: its node (as `midia-node serve` wires it) and, on request, its portal.</summary>
public sealed class TestSite(PortalTestNetwork network, string site)
{
    // The consent sync looks at the outbox ten times a second, so a change travels within a test's patience.
    static readonly IConfiguration FastConsentSync = new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { ["ConsentSync:Interval"] = "00:00:00.1" }).Build();
    WebApplication? node;

    public string Site => site;
    public int Port { get; set; }
    public string Address => $"https://127.0.0.1:{Port}";
    public string DbPath => Path.Combine(network.Folder, site + ".db");
    public string AccountsFile => Path.Combine(network.Folder, site + "-accounts.json");
    public PortalServer? Portal { get; private set; }

    /// <summary>Patients with a research permit each: (resource id, sex "female"/"male", born).</summary>
    public void Import(params (string Id, string Sex, DateOnly Born)[] patients)
    {
        using var connection = SiteDatabase.Open(DbPath);
        using var transaction = connection.BeginTransaction();
        foreach (var p in patients)
        {
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO patient(resource_id, sex, birth_date, family, given) VALUES ($id, $sex, $born, 'Test', 'Person');
                INSERT INTO consent_provision(pid, policy, permit, source) VALUES (last_insert_rowid(), $policy, 1, 'Consent/' || $id);
                """;
            insert.Parameters.AddWithValue("$id", p.Id);
            insert.Parameters.AddWithValue("$sex", p.Sex);
            insert.Parameters.AddWithValue("$born", Days.From(p.Born));
            insert.Parameters.AddWithValue("$policy", ConsentPolicies.Research);
            insert.ExecuteNonQuery();
        }
        SiteDatabase.BumpDataVersion(connection, transaction);
        transaction.Commit();
    }

    /// <summary>`midia-node import` of one FHIR file (Bundle JSON or NDJSON) with the network's linkage key.</summary>
    public void ImportFhir(string name, string content)
    {
        var path = Path.Combine(network.Folder, $"{site}-{name}");
        File.WriteAllText(path, content);
        var error = new StringWriter();
        var exit = Midia.Node.Import.ImportCommand.Run(DbPath, [path], skipUnknown: false, new StringWriter(), error, network.Key);
        Assert.True(exit == 0, $"import at {site} failed: {error}");
    }

    /// <summary>`midia-node admin approve` and `admin disclosure TYPE --exact --threshold 0`, so counts can be compared exactly.</summary>
    public void ApproveExact(string queryType)
    {
        using var connection = SiteDatabase.Open(DbPath);
        new QueryApproval(connection).Approve(queryType, null, null);
        new DisclosureControl(connection).Configure(queryType, null, null, 0, true);
    }

    public async Task StartAsync()
    {
        if (!File.Exists(DbPath)) SiteDatabase.Open(DbPath).Dispose();
        var settings = new NodeSettings(site, DbPath, new IPEndPoint(IPAddress.Loopback, Port), network.Material("node", $"node-{site}", site),
            network.CoordinatorAddress, network.Key) { Sessions = 1 };
        node = NodeServer.Create(settings, FastConsentSync, PortalTestNetwork.Quiet);
        try { await node.StartNetworkServerAsync(); }
        catch
        {
            await node.DisposeAsync();
            node = null;
            throw;
        }
    }

    /// <summary>Starts this site's portal (role portal, this site) with the given local accounts (password <see cref="PortalTestNetwork.Password"/>).</summary>
    public async Task<PortalServer> StartPortalAsync(params (string User, string Role, string? Kvnr)[] accounts)
    {
        var store = new AccountStore(AccountsFile);
        foreach (var (user, role, kvnr) in accounts)
            store.Add(user, role, null, role == "researcher" ? null : site, kvnr, PortalTestNetwork.Password, PortalTestNetwork.TestIterations);
        if (!File.Exists(AccountsFile)) store.Add("nobody", "researcher", null, null, null, Guid.NewGuid().ToString(), PortalTestNetwork.TestIterations);
        var settings = new PortalSettings(new IPEndPoint(IPAddress.Loopback, 0), network.Material("portal", $"portal-{site}", site),
            network.CoordinatorAddress, new Uri(Address), AccountsFile, site);
        Portal = await PortalServer.StartAsync(settings);
        return Portal;
    }

    public async Task StopAsync()
    {
        if (Portal is not null) await Portal.DisposeAsync();
        if (node is not null)
        {
            await node.StopAsync();
            await node.DisposeAsync();
        }
        (Portal, node) = (null, null);
    }
}
