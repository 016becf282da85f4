using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Midia.CertsDev;
using Midia.Coordinator.FanOut;
using Midia.Coordinator.Quota;
using Midia.Coordinator.Serve;
using Midia.Protos.Coordinator.V1;
using Midia.Rpc.Client;
using Midia.Rpc.Core;
using Midia.Rpc.Tls;

namespace Midia.Coordinator.Tests.Support;

/// <summary>
/// A throw-away network on loopback: a dev CA, scripted site nodes, and the real coordinator
/// (CoordinatorServer, as `serve` runs it) with its sites file and SQLite database in a temp folder.
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
    public CoordinatorServer Coordinator { get; private set; } = null!;
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
        Coordinator = await CoordinatorServer.StartAsync(settings, NullLoggerFactory.Instance);
    }

    public Researcher Client(string role = "researcher", string name = "Dr Test Researcher")
    {
        var channel = RpcChannel.ForAddress(Coordinator.Address, new RpcChannelOptions { Tls = Material(role, name, role is "clinician" or "site-admin" or "node" ? "erlangen" : null) });
        disposables.Add(channel);
        return new Researcher(channel.CreateCallInvoker());
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
        if (Coordinator is not null) await Coordinator.DisposeAsync();
        foreach (var node in Nodes) await node.DisposeAsync();
        foreach (var d in disposables) d.Dispose();
        Authority.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }

    public static string Query(int n = 0) =>
        $$"""{"version": "http://to_be_decided.com/draft-1/schema#", "display": "test {{n}}", "inclusionCriteria": [[{"termCodes": [{"code": "C50", "system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "display": "Breast cancer"}]}]]}""";
}

/// <summary>A user of the coordinator's Research service over a real mutual-TLS channel.</summary>
public sealed class Researcher(CallInvoker invoker)
{
    static readonly Google.Protobuf.Reflection.ServiceDescriptor Research = CoordinatorReflection.Descriptor.Services.Single(s => s.Name == "Research");

    public async Task<List<CountEvent>> CountAsync(string ccdl, string project = "", params string[] stratify)
    {
        var request = new CountRequest { CcdlJson = ccdl, Project = project, StratifyBy = { stratify } };
        using var call = invoker.AsyncServerStreamingCall(Method<CountRequest, CountEvent>.From(Research, "Count"), new CallOptions(Deadline: DateTime.UtcNow.AddSeconds(60)), request);
        var events = new List<CountEvent>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None)) events.Add(call.ResponseStream.Current);
        return events;
    }

    public Task<TReply> CallAsync<TRequest, TReply>(string rpc, TRequest request)
        where TRequest : class, Google.Protobuf.IMessage<TRequest> where TReply : class, Google.Protobuf.IMessage<TReply>
    {
        var call = invoker.AsyncUnaryCall(Method<TRequest, TReply>.From(Research, rpc), new CallOptions(Deadline: DateTime.UtcNow.AddSeconds(30)), request);
        return call.ResponseAsync;
    }

    public Task<SitesReply> SitesAsync() => CallAsync<SitesRequest, SitesReply>("Sites", new SitesRequest());

    static readonly Google.Protobuf.Reflection.ServiceDescriptor Projects = CoordinatorReflection.Descriptor.Services.Single(s => s.Name == "Projects");

    /// <summary>A count with --project needs the project registered first (Projects.Register).</summary>
    public async Task<Project> RegisterProjectAsync(string id, string title = "A test project", string question = "How many?", string institution = "Test University")
    {
        using var call = invoker.AsyncUnaryCall(Method<RegisterProjectRequest, Project>.From(Projects, "Register"), new CallOptions(Deadline: DateTime.UtcNow.AddSeconds(30)),
            new RegisterProjectRequest { Id = id, Title = title, Question = question, Institution = institution });
        return await call.ResponseAsync;
    }

    public async Task<TReply> ProjectsAsync<TRequest, TReply>(string rpc, TRequest request)
        where TRequest : class, Google.Protobuf.IMessage<TRequest> where TReply : class, Google.Protobuf.IMessage<TReply>
    {
        using var call = invoker.AsyncUnaryCall(Method<TRequest, TReply>.From(Projects, rpc), new CallOptions(Deadline: DateTime.UtcNow.AddSeconds(30)), request);
        return await call.ResponseAsync;
    }
}

public static class CountEvents
{
    public static CountStarted Started(this List<CountEvent> events) => events.First().Started;
    public static SiteResult Site(this List<CountEvent> events, string site) => events.Where(e => e.EventCase == CountEvent.EventOneofCase.Site).Select(e => e.Site).Single(s => s.Site == site);
    public static CountTotal Total(this List<CountEvent> events) => events.Last().Total;
}
