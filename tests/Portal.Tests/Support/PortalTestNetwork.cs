using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Midia.CertsDev;
using Midia.Consent.Tests.Support;
using Midia.Coordinator.Serve;
using Midia.Node.Care;
using Midia.Node.Consent;
using Midia.Node.Disclosure;
using Midia.Node.Linkage;
using Midia.Node.Policy;
using Midia.Node.Research;
using Midia.Node.Store;
using Midia.Node.Transparency;
using Midia.Portal.Accounts;
using Midia.Portal.Serve;
using Midia.Protos.Node.V1;
using Midia.Rpc.Client;
using Midia.Rpc.Server;
using Midia.Rpc.Tls;

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
    public CoordinatorServer? Coordinator { get; private set; }

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
            catch (Midia.Rpc.Hosting.CommandException e) when (attempt < 5 && e.Message.Contains("already in use", StringComparison.Ordinal))
            {
                foreach (var node in Nodes) await node.StopAsync();
                if (Coordinator is not null) await Coordinator.DisposeAsync();
                Coordinator = null;
                PickPorts();
            }
        }
    }

    async Task StartOnceAsync()
    {
        var settings = new CoordinatorSettings(new IPEndPoint(IPAddress.Loopback, CoordinatorPort), Material("coordinator", "coordinator"), Path.Combine(Folder, "coordinator.db"), SitesFile);
        Coordinator = await CoordinatorServer.StartAsync(settings, NullLoggerFactory.Instance);
        foreach (var node in Nodes) await node.StartAsync();
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

    /// <summary>A gRPC client of the coordinator, or with <paramref name="node"/> of that site's node.</summary>
    public CallInvoker Client(TlsMaterial tls, string? node = null)
    {
        var channel = RpcChannel.ForAddress(node is null ? CoordinatorAddress : new Uri(this[node].Address), new RpcChannelOptions { Tls = tls });
        lock (disposables) disposables.Add(channel);
        return channel.CreateCallInvoker();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes) await node.StopAsync();
        if (Coordinator is not null) await Coordinator.DisposeAsync();
        foreach (var d in disposables) d.Dispose();
        Authority.Dispose();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>One site: its node (as `midia-node serve` wires it) and, on request, its portal.</summary>
public sealed class TestSite(PortalTestNetwork network, string site)
{
    SiteSessions? sessions;
    NetworkConsent? store;
    RpcChannel? channel;
    RpcServer? server;

    public string Site => site;
    public int Port { get; set; }
    public string Address => $"https://127.0.0.1:{Port}";
    public string DbPath => Path.Combine(network.Folder, site + ".db");
    public string AccountsFile => Path.Combine(network.Folder, site + "-accounts.json");
    public ConsentSync? Sync { get; private set; }
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
        var tls = network.Material("node", $"node-{site}", site);
        sessions = new SiteSessions(DbPath, 1);
        store = new NetworkConsent(DbPath, site);
        channel = RpcChannel.ForAddress(network.CoordinatorAddress, new RpcChannelOptions { Tls = tls });
        Sync = new ConsentSync(store, network.Key, channel.CreateCallInvoker(), NullLogger.Instance, TimeSpan.FromMilliseconds(100));
        server = new RpcServer(new RpcServerOptions { Listen = new IPEndPoint(IPAddress.Loopback, Port), Tls = tls }, NullLoggerFactory.Instance);
        server.AddService(NodeReflection.Descriptor.Services[0], new ResearchQueries(site, sessions));
        server.AddService(ConsentReceiver.Descriptor, new ConsentReceiver(store, Sync));
        server.AddService(PatientCare.Descriptor, new PatientCare(site, sessions, network.Key, new PatientReports(site, sessions)));
        server.AddService(Midia.Node.Patients.PatientAccess.Descriptor, new Midia.Node.Patients.PatientAccess(site, sessions, network.Key, Sync, channel.CreateCallInvoker()));
        server.AddService(Midia.Node.Admin.SiteAdmin.Descriptor, new Midia.Node.Admin.SiteAdmin(site, sessions));
        await server.StartAsync();
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
        if (server is not null) await server.DisposeAsync();
        if (Sync is not null) await Sync.DisposeAsync();
        channel?.Dispose();
        store?.Dispose();
        sessions?.Dispose();
        (Portal, server, Sync, channel, store, sessions) = (null, null, null, null, null, null);
    }
}
