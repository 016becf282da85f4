using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Midia.CertsDev;
using Midia.Coordinator.Consent;
using Midia.Coordinator.Serve;
using Midia.Node.Care;
using Midia.Node.Consent;
using Midia.Node.Import;
using Midia.Node.Linkage;
using Midia.Node.Policy;
using Midia.Node.Serve;
using Midia.Node.Store;
using Midia.Protos.Consent.V1;
using Midia.Trust;

namespace Midia.Consent.Tests.Support;

/// <summary>
/// A throw-away network on loopback with mutual TLS: the real coordinator (CoordinatorServer.Create,
/// as `midia-coordinator serve` runs it) and real nodes (NodeServer.Create, as `midia-node serve`
/// runs them: every service, the consent sync, the interceptors), each with its own SQLite file.
/// Ports are fixed up front so a stopped coordinator or node comes back at the same address.
/// </summary>
public sealed class ConsentNetwork : IAsyncDisposable
{
    readonly List<IDisposable> disposables = [];

    public ConsentNetwork(params string[] sites)
    {
        Directory.CreateDirectory(Folder);
        CoordinatorPort = LoopbackPorts.Free();
        foreach (var site in sites) Nodes.Add(new TestNode(this, site, LoopbackPorts.Free()));
        File.WriteAllText(SitesFile, JsonSerializer.Serialize(Nodes.Select(n => new { id = n.Site, address = n.Address })));
    }

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "midia-consent-tests-" + Guid.NewGuid().ToString("N")[..12]);
    public X509Certificate2 Authority { get; } = DevCertificates.CreateAuthority("Consent Tests CA");
    public LinkageKey Key { get; } = LinkageKey.FromSecret("a test linkage secret of at least thirty-two bytes"u8);
    public int CoordinatorPort { get; }
    public Uri CoordinatorAddress => new($"https://127.0.0.1:{CoordinatorPort}");
    public string SitesFile => Path.Combine(Folder, "sites.json");
    public string CoordinatorDb => Path.Combine(Folder, "coordinator.db");
    public List<TestNode> Nodes { get; } = [];
    /// <summary>The running coordinator (null while stopped).</summary>
    public WebApplication? Coordinator { get; private set; }
    /// <summary>The running coordinator's consent pushes: what each site last acknowledged.</summary>
    public ConsentDistributor Distributor => (Coordinator ?? throw new InvalidOperationException("the coordinator is not running")).Services.GetRequiredService<ConsentDistributor>();
    public TimeSpan SyncInterval { get; init; } = TimeSpan.FromMilliseconds(50);
    public Midia.Coordinator.FanOut.FanOutOptions FanOut { get; init; } = new();
    public Midia.Coordinator.Quota.QuotaOptions Quota { get; init; } = new();

    public TestNode this[string site] => Nodes.Single(n => n.Site == site);

    public TlsMaterial Material(string role, string name, string? site = null)
    {
        using var certificate = DevCertificates.Issue(Authority, role, name, site);
        var material = new TlsMaterial(certificate, [X509CertificateLoader.LoadCertificate(Authority.RawData)]);
        lock (disposables) disposables.Add(material);
        return material;
    }

    public async Task StartCoordinatorAsync()
    {
        var settings = new CoordinatorSettings(new IPEndPoint(IPAddress.Loopback, CoordinatorPort), Material("coordinator", "coordinator"), CoordinatorDb, SitesFile)
        {
            FanOut = FanOut,
            Quota = Quota,
        };
        var coordinator = CoordinatorServer.Create(settings, builder => builder.Logging.ClearProviders());
        try { await coordinator.StartNetworkServerAsync(); }
        catch
        {
            await coordinator.DisposeAsync();
            throw;
        }
        Coordinator = coordinator;
    }

    public async Task StopCoordinatorAsync()
    {
        if (Coordinator is { } coordinator)
        {
            Coordinator = null;
            await coordinator.StopAsync();
            await coordinator.DisposeAsync();
        }
    }

    public async Task StartAllAsync()
    {
        await StartCoordinatorAsync();
        foreach (var node in Nodes) await node.StartAsync();
    }

    /// <summary>PEM files of a certificate from the network's CA, the CA and the linkage key, for the executables.</summary>
    public (string Cert, string Key, string Ca, string Linkage) WritePem(string role, string name, string? site = null)
    {
        using var certificate = DevCertificates.Issue(Authority, role, name, site);
        var prefix = Path.Combine(Folder, name);
        DevCertificates.WritePem(certificate, prefix + ".crt", prefix + ".key");
        var ca = Path.Combine(Folder, "ca.crt");
        File.WriteAllText(ca, Authority.ExportCertificatePem());
        var linkage = Path.Combine(Folder, "linkage.key");
        if (!File.Exists(linkage)) DevCertificates.WriteSecret(linkage, "a test linkage secret of at least thirty-two bytes\n");
        return (prefix + ".crt", prefix + ".key", ca, linkage);
    }

    /// <summary>
    /// A channel to the coordinator (or, with <paramref name="node"/>, to that site's node) with a
    /// certificate of the given role, for the generated clients: <c>new Research.ResearchClient(network.Client(...))</c>.
    /// </summary>
    public CallInvoker Client(string role, string name, string? site, string? node = null)
    {
        var address = node is null ? CoordinatorAddress : new Uri(this[node].Address);
        var channel = NetworkChannel.Open(address, Material(role, name, site));
        lock (disposables) disposables.Add(channel);
        return channel.Invoker;
    }

    /// <summary>A ConsentLog client with a node certificate of the site (as that node's submitter calls it).</summary>
    public ConsentLog.ConsentLogClient ConsentLogClient(string site) => new(Client("node", $"node-{site}", site));

    /// <summary>The coordinator's log as its SQLite file holds it: seq -> (origin, origin id, linkage, policy, permit).</summary>
    public List<(long Seq, string Origin, long OriginId, string Linkage, string Policy, bool Permit)> Log()
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = CoordinatorDb, Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq, origin_site, origin_change_id, linkage, policy, permit FROM consent_log ORDER BY seq";
        using var reader = command.ExecuteReader();
        var result = new List<(long, string, long, string, string, bool)>();
        while (reader.Read()) result.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4), reader.GetInt64(5) != 0));
        return result;
    }

    /// <summary>Polls until the condition holds; fails with the message after a generous ceiling (not a speed assertion).</summary>
    public static async Task Eventually(Func<bool> condition, string what, int seconds = 30)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > until) Assert.Fail($"not within {seconds} s: {what}");
            await Task.Delay(25);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes) await node.StopAsync();
        await StopCoordinatorAsync();
        lock (disposables) foreach (var d in disposables) d.Dispose();
        Authority.Dispose();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A patient as a site's import would have stored it.</summary>
public sealed record TestPatient(string ResourceId, string? Kvnr, string Family, string Given, DateOnly Born, string Sex);

/// <summary>One site node, started and stopped at will on its fixed port; its database survives a stop.</summary>
public sealed class TestNode(ConsentNetwork network, string site, int port)
{
    WebApplication? server;

    public string Site => site;
    public string Address => $"https://127.0.0.1:{port}";
    public string DbPath => Path.Combine(network.Folder, site + ".db");
    /// <summary>The running node's consent sync (null while stopped).</summary>
    public ConsentSync? Sync => server?.Services.GetRequiredService<ConsentSync>();
    public NetworkConsent Store => (server ?? throw new InvalidOperationException($"{site} is not running")).Services.GetRequiredService<NetworkConsent>();
    public bool Running => server is not null;
    /// <summary>How the node opens its database sessions (Faults: a read-only or full database).</summary>
    public Func<SiteSession>? OpenSession { get; set; }
    /// <summary>The node's clock for the tickets it seals (Faults: clock skew between sites).</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>Patients as an import writes them (no linkage: the node sets it), each with an open research permit document.</summary>
    public void Import(params TestPatient[] patients)
    {
        using var connection = SiteDatabase.Open(DbPath);
        using var transaction = connection.BeginTransaction();
        foreach (var p in patients)
        {
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO patient(resource_id, sex, birth_date, kvnr, family, given) VALUES ($id, $sex, $born, $kvnr, $family, $given);
                INSERT INTO consent_provision(pid, policy, permit, source) VALUES (last_insert_rowid(), $policy, 1, 'Consent/' || $id);
                """;
            insert.Parameters.AddWithValue("$id", p.ResourceId);
            insert.Parameters.AddWithValue("$sex", p.Sex);
            insert.Parameters.AddWithValue("$born", Days.From(p.Born));
            insert.Parameters.AddWithValue("$kvnr", (object?)p.Kvnr ?? DBNull.Value);
            insert.Parameters.AddWithValue("$family", p.Family);
            insert.Parameters.AddWithValue("$given", p.Given);
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
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = ImportCommand.Run(DbPath, [path], skipUnknown: false, output, error, network.Key);
        Assert.True(exit == 0, $"import at {site} failed: {error}");
    }

    /// <summary>`midia-node admin approve` / `admin revoke` on the database while the node runs.</summary>
    public void Approve(string queryType, bool approved = true)
    {
        using var connection = SiteDatabase.Open(DbPath);
        if (approved) new QueryApproval(connection).Approve(queryType, null, null);
        else new QueryApproval(connection).Revoke(queryType, null);
    }

    /// <summary>Rows of the site's database, each as "a|b|c".</summary>
    public List<string> Rows(string sql)
    {
        using var connection = SiteDatabase.Open(DbPath);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
            rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        return rows;
    }

    /// <summary>
    /// Starts the node as `midia-node serve` does (NodeServer.Create) on its fixed port, with the
    /// network's sync interval; <see cref="OpenSession"/> and <see cref="Clock"/> replace the
    /// session pool and the ticket clock, and <paramref name="configure"/> may change more.
    /// </summary>
    public async Task StartAsync(Action<WebApplicationBuilder>? configure = null)
    {
        if (!File.Exists(DbPath)) SiteDatabase.Open(DbPath).Dispose();
        var settings = new NodeSettings(site, DbPath, new IPEndPoint(IPAddress.Loopback, port), network.Material("node", $"node-{site}", site), network.CoordinatorAddress, network.Key);
        var tunables = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConsentSync:Interval"] = network.SyncInterval.ToString() })
            .Build();
        var (open, clock) = (OpenSession, Clock);
        var app = NodeServer.Create(settings, tunables, builder =>
        {
            builder.Logging.ClearProviders();
            // A factory, so the container disposes the pool with the node.
            if (open is not null) builder.Services.AddSingleton(_ => new SiteSessions(1, open));
            if (clock != TimeProvider.System) builder.Services.AddSingleton(new PatientTickets(clock));
            configure?.Invoke(builder);
        });
        try { await app.StartNetworkServerAsync(); }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        server = app;
    }

    /// <summary>Stops everything at once, mid-whatever (the database keeps what was committed).</summary>
    public async Task StopAsync()
    {
        if (server is not { } app) return;
        server = null;
        await app.StopAsync();
        await app.DisposeAsync();
    }

    /// <summary>`midia-node consent set` as the command does it: the ledger's outbox write on its own connection.</summary>
    public long ConsentSet(string resourceId, string policy, bool permit)
    {
        using var connection = SiteDatabase.Open(DbPath);
        var pid = LocalPatient.Find(connection, null, resourceId);
        var id = new ConsentLedger(connection).Record(pid, policy, permit, Days.Today(), null);
        Sync?.Wake();
        return id;
    }

    /// <summary>What the very next query sees: a fresh session's ledger, as ResearchQueries uses it.</summary>
    public bool Permitted(string resourceId, string policy = ConsentPolicies.Research)
    {
        using var session = new SiteSession(DbPath);
        var pid = LocalPatient.Find(session.Connection, null, resourceId);
        return session.Consent.Permitted(policy, Days.Today()).Contains(pid);
    }

    public long PermittedCount(string policy = ConsentPolicies.Research)
    {
        using var session = new SiteSession(DbPath);
        return session.Consent.Permitted(policy, Days.Today()).Count();
    }

    /// <summary>The applied cursor and the network rows per seq, read from the file.</summary>
    public (long Cursor, Dictionary<long, int> RowsPerSeq) Network()
    {
        using var connection = SiteDatabase.Open(DbPath);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq, COUNT(*) FROM consent_provision WHERE seq IS NOT NULL GROUP BY seq";
        var rows = new Dictionary<long, int>();
        using (var reader = command.ExecuteReader())
            while (reader.Read()) rows[reader.GetInt64(0)] = reader.GetInt32(1);
        command.CommandText = "SELECT value FROM meta WHERE key = 'consent_applied_seq'";
        var cursor = command.ExecuteScalar() is string s ? long.Parse(s) : 0;
        return (cursor, rows);
    }
}
