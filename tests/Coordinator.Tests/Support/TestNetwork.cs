using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Midia.CertsDev;
using Midia.Coordinator.FanOut;
using Midia.Coordinator.Quota;
using Midia.Coordinator.Serve;
using Midia.Protos.Coordinator.V1;
using Midia.Trust;
using ProjectsClient = Midia.Protos.Coordinator.V1.Projects.ProjectsClient;
using ResearchClient = Midia.Protos.Coordinator.V1.Research.ResearchClient;

namespace Midia.Coordinator.Tests.Support;

/// <summary>
/// A throw-away network on loopback: a dev CA, scripted site nodes, and the real coordinator
/// (CoordinatorServer.Create, as `serve` runs it, on Kestrel with mutual TLS) with its sites file
/// and SQLite database in a temp folder.
/// </summary>
public sealed class TestNetwork : IAsyncDisposable
{
    readonly List<IDisposable> disposables = [];

    public TestNetwork()
    {
        Directory.CreateDirectory(Folder);
        SitesFile = Path.Combine(Folder, "sites.json");
    }

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "midia-coordinator-tests-" + Guid.NewGuid().ToString("N")[..12]);
    public X509Certificate2 Authority { get; } = DevCertificates.CreateAuthority("Coordinator Tests CA");
    public List<ScriptedNode> Nodes { get; } = [];
    /// <summary>The running coordinator and its address (the real port).</summary>
    public WebApplication Coordinator { get; private set; } = null!;
    public Uri CoordinatorAddress { get; private set; } = null!;
    public string SitesFile { get; }
    public FanOutOptions FanOut { get; init; } = new() { Deadline = TimeSpan.FromSeconds(2), RetryDelay = TimeSpan.FromMilliseconds(20) };
    public QuotaOptions Quota { get; init; } = new() { PerMinute = 1000, Per7Days = 1000 };

    public TlsMaterial Material(string role, string name, string? site = null, X509Certificate2? authority = null)
    {
        using var certificate = DevCertificates.Issue(authority ?? Authority, role, name, site);
        var material = new TlsMaterial(certificate, [X509CertificateLoader.LoadCertificate(Authority.RawData)]);
        disposables.Add(material);
        return material;
    }

    public async Task<ScriptedNode> AddNodeAsync(string site, X509Certificate2? authority = null)
    {
        var node = new ScriptedNode { Site = site, Tls = Material("node", $"node-{site}", site, authority) };
        await node.StartAsync();
        Nodes.Add(node);
        return node;
    }

    public ScriptedNode Node(string site) => Nodes.Single(n => n.Site == site);

    public void WriteSites(IEnumerable<(string Id, string Address)> sites) =>
        File.WriteAllText(SitesFile, JsonSerializer.Serialize(sites.Select(s => new { id = s.Id, address = s.Address })));

    /// <summary>Writes the sites file for the nodes added so far and starts the coordinator.</summary>
    public async Task StartCoordinatorAsync()
    {
        if (!File.Exists(SitesFile)) WriteSites(Nodes.Select(n => (n.Site, n.Address)));
        var settings = new CoordinatorSettings(new IPEndPoint(IPAddress.Loopback, 0), Material("coordinator", "coordinator"), Path.Combine(Folder, "coordinator.db"), SitesFile)
        {
            FanOut = FanOut,
            Quota = Quota,
        };
        Coordinator = CoordinatorServer.Create(settings, builder => builder.Logging.ClearProviders());
        CoordinatorAddress = await Coordinator.StartNetworkServerAsync();
    }

    public Researcher Client(string role = "researcher", string name = "Dr Test Researcher")
    {
        var channel = NetworkChannel.Open(CoordinatorAddress, Material(role, name, role is "clinician" or "site-admin" or "node" ? "erlangen" : null));
        disposables.Add(channel);
        return new Researcher(channel.Invoker);
    }

    /// <summary>PEM files of a user certificate and the CA, for the `midia` executable.</summary>
    public (string Cert, string Key, string Ca) WritePem(string role, string name)
    {
        using var certificate = DevCertificates.Issue(Authority, role, name);
        var prefix = Path.Combine(Folder, role);
        DevCertificates.WritePem(certificate, prefix + ".crt", prefix + ".key");
        var ca = Path.Combine(Folder, "ca.crt");
        File.WriteAllText(ca, Authority.ExportCertificatePem());
        return (prefix + ".crt", prefix + ".key", ca);
    }

    public async ValueTask DisposeAsync()
    {
        if (Coordinator is not null)
        {
            await Coordinator.StopAsync();
            await Coordinator.DisposeAsync();
        }
        foreach (var node in Nodes) await node.DisposeAsync();
        foreach (var d in disposables) d.Dispose();
        Authority.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }

    public static string Query(int n = 0) =>
        $$"""{"version": "http://to_be_decided.com/draft-1/schema#", "display": "test {{n}}", "inclusionCriteria": [[{"termCodes": [{"code": "C50", "system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "display": "Breast cancer"}]}]]}""";
}

/// <summary>A user of the coordinator's Research and Projects services over a real mutual-TLS channel.</summary>
public sealed class Researcher(CallInvoker invoker)
{
    readonly ResearchClient research = new(invoker);
    readonly ProjectsClient projects = new(invoker);

    static DateTime Deadline(int seconds = 30) => DateTime.UtcNow.AddSeconds(seconds);

    public async Task<List<CountEvent>> CountAsync(string ccdl, string project = "", params string[] stratify)
    {
        var request = new CountRequest { CcdlJson = ccdl, Project = project, StratifyBy = { stratify } };
        using var call = research.Count(request, deadline: Deadline(60));
        var events = new List<CountEvent>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None)) events.Add(call.ResponseStream.Current);
        return events;
    }

    public Task<SitesReply> SitesAsync() => research.SitesAsync(new SitesRequest(), deadline: Deadline()).ResponseAsync;
    public Task<QuotaReply> QuotaAsync() => research.QuotaAsync(new QuotaRequest(), deadline: Deadline()).ResponseAsync;
    public Task<HistoryReply> HistoryAsync() => research.HistoryAsync(new HistoryRequest(), deadline: Deadline()).ResponseAsync;

    /// <summary>A count with --project needs the project registered first (Projects.Register).</summary>
    public Task<Project> RegisterProjectAsync(string id, string title = "A test project", string question = "How many?", string institution = "Test University") =>
        projects.RegisterAsync(new RegisterProjectRequest { Id = id, Title = title, Question = question, Institution = institution }, deadline: Deadline()).ResponseAsync;

    public Task<Project> PublishAsync(PublishResultRequest request) => projects.PublishAsync(request, deadline: Deadline()).ResponseAsync;
    public Task<ListProjectsReply> ListProjectsAsync() => projects.ListAsync(new ListProjectsRequest(), deadline: Deadline()).ResponseAsync;
}

public static class CountEvents
{
    public static CountStarted Started(this List<CountEvent> events) => events.First().Started;
    public static SiteResult Site(this List<CountEvent> events, string site) => events.Where(e => e.EventCase == CountEvent.EventOneofCase.Site).Select(e => e.Site).Single(s => s.Site == site);
    public static CountTotal Total(this List<CountEvent> events) => events.Last().Total;
}
