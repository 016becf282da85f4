using System.Security.Cryptography.X509Certificates;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Midia.CertsDev;
using Midia.Security.Tests.Support;
using Midia.Trust;

namespace Midia.Security.Tests;

/// <summary>
/// Issue 8, part 1: every RPC that `midia-node serve` and `midia-coordinator serve` serve, called
/// as every identity, against the real processes of a `midia dev up` network. The RPCs are read
/// from the running servers (reflection: the services actually bound, with their descriptors),
/// so an RPC or service without a row here fails the test; SECURITY.md carries the same table.
/// </summary>
[Collection(DemoNetworkCollection.Name)]
public sealed class AuthorizationMatrixTests(DemoNetwork network) : IDisposable
{
    /// <summary>
    /// Expected outcome of each call. The node is erlangen's; requests that name a site name
    /// erlangen, so "other site" is a certificate of munich. Identities (certs-dev certificates):
    ///   node = node-erlangen, coordinator, researcher, clinician = clinician-erlangen,
    ///   site-admin = site-admin-erlangen; "other site" = the same role for munich;
    ///   foreign CA = a coordinator certificate from another CA; expired = a coordinator
    ///   certificate of the network CA that expired yesterday; no certificate = none presented.
    /// Outcomes:
    ///   allowed      not refused by authorization (the call may still fail for a domain reason:
    ///                INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION — never PERMISSION_DENIED/UNAUTHENTICATED)
    ///   denied       PERMISSION_DENIED (the role rule, or the handler's own-site check)
    ///   TLS refused  no gRPC call at all: the server refuses the certificate in the TLS handshake
    /// </summary>
    public const string Table = """
| server      | rpc                                                           | node    | node other site | coordinator | researcher | clinician | clinician other site | site-admin | site-admin other site | foreign CA  | expired     | no certificate |
|-------------|---------------------------------------------------------------|---------|-----------------|-------------|------------|-----------|----------------------|------------|-----------------------|-------------|-------------|----------------|
| node        | midia.node.v1.SiteNode/CohortCount                            | denied  | denied          | allowed     | denied     | denied    | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| node        | midia.node.v1.SiteNode/StratifiedCount                        | denied  | denied          | allowed     | denied     | denied    | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| node        | midia.node.v1.PatientCare/ResolvePatient                      | denied  | denied          | denied      | denied     | allowed   | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| node        | midia.node.v1.PatientCare/OpenTicket                          | denied  | denied          | allowed     | denied     | denied    | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| node        | midia.node.v1.PatientCare/PatientSummary                      | denied  | denied          | allowed     | denied     | denied    | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| node        | midia.node.v1.PatientCare/PatientReport                       | denied  | denied          | allowed     | denied     | denied    | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| node        | midia.consent.v1.ConsentReceiver/Apply                        | denied  | denied          | allowed     | denied     | denied    | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| node        | midia.node.v1.SiteAdmin/ListQueryTypes                        | denied  | denied          | denied      | denied     | denied    | denied               | allowed    | denied                | TLS refused | TLS refused | TLS refused    |
| node        | midia.node.v1.SiteAdmin/Approve                               | denied  | denied          | denied      | denied     | denied    | denied               | allowed    | denied                | TLS refused | TLS refused | TLS refused    |
| node        | midia.node.v1.SiteAdmin/Deny                                  | denied  | denied          | denied      | denied     | denied    | denied               | allowed    | denied                | TLS refused | TLS refused | TLS refused    |
| node        | midia.node.v1.SiteAdmin/Revoke                                | denied  | denied          | denied      | denied     | denied    | denied               | allowed    | denied                | TLS refused | TLS refused | TLS refused    |
| node        | midia.node.v1.SiteAdmin/ListDisclosure                        | denied  | denied          | denied      | denied     | denied    | denied               | allowed    | denied                | TLS refused | TLS refused | TLS refused    |
| node        | midia.node.v1.SiteAdmin/SetDisclosure                         | denied  | denied          | denied      | denied     | denied    | denied               | allowed    | denied                | TLS refused | TLS refused | TLS refused    |
| node        | midia.node.v1.SiteAdmin/Audit                                 | denied  | denied          | denied      | denied     | denied    | denied               | allowed    | denied                | TLS refused | TLS refused | TLS refused    |
| node        | midia.node.v1.PatientAccess/Consent                           | denied  | denied          | denied      | denied     | denied    | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| node        | midia.node.v1.PatientAccess/SetConsent                        | denied  | denied          | denied      | denied     | denied    | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| node        | midia.node.v1.PatientAccess/Report                            | denied  | denied          | denied      | denied     | denied    | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| node        | grpc.health.v1.Health/Check                                   | allowed | allowed         | allowed     | allowed    | allowed   | allowed              | allowed    | allowed               | TLS refused | TLS refused | TLS refused    |
| node        | grpc.health.v1.Health/Watch                                   | allowed | allowed         | allowed     | allowed    | allowed   | allowed              | allowed    | allowed               | TLS refused | TLS refused | TLS refused    |
| node        | grpc.reflection.v1.ServerReflection/ServerReflectionInfo      | allowed | allowed         | allowed     | allowed    | allowed   | allowed              | allowed    | allowed               | TLS refused | TLS refused | TLS refused    |
| node        | grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo | allowed | allowed         | allowed     | allowed    | allowed   | allowed              | allowed    | allowed               | TLS refused | TLS refused | TLS refused    |
| coordinator | midia.coordinator.v1.Research/Count                           | denied  | denied          | denied      | allowed    | denied    | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| coordinator | midia.coordinator.v1.Research/Sites                           | denied  | denied          | allowed     | allowed    | allowed   | allowed              | allowed    | allowed               | TLS refused | TLS refused | TLS refused    |
| coordinator | midia.coordinator.v1.Research/Quota                           | denied  | denied          | denied      | allowed    | denied    | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| coordinator | midia.coordinator.v1.Research/History                         | denied  | denied          | denied      | allowed    | denied    | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| coordinator | midia.coordinator.v1.Care/Summary                             | denied  | denied          | denied      | denied     | allowed   | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| coordinator | midia.coordinator.v1.Care/PatientReport                       | allowed | allowed         | denied      | denied     | allowed   | allowed              | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| coordinator | midia.coordinator.v1.Projects/Register                        | denied  | denied          | denied      | allowed    | denied    | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| coordinator | midia.coordinator.v1.Projects/Publish                         | denied  | denied          | denied      | allowed    | denied    | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| coordinator | midia.coordinator.v1.Projects/List                            | allowed | allowed         | allowed     | allowed    | allowed   | allowed              | allowed    | allowed               | TLS refused | TLS refused | TLS refused    |
| coordinator | midia.consent.v1.ConsentLog/Submit                            | allowed | denied          | denied      | denied     | denied    | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| coordinator | midia.consent.v1.ConsentLog/Pull                              | allowed | allowed         | denied      | denied     | denied    | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| coordinator | midia.consent.v1.ConsentLog/Applied                           | allowed | allowed         | denied      | denied     | denied    | denied               | denied     | denied                | TLS refused | TLS refused | TLS refused    |
| coordinator | grpc.health.v1.Health/Check                                   | allowed | allowed         | allowed     | allowed    | allowed   | allowed              | allowed    | allowed               | TLS refused | TLS refused | TLS refused    |
| coordinator | grpc.health.v1.Health/Watch                                   | allowed | allowed         | allowed     | allowed    | allowed   | allowed              | allowed    | allowed               | TLS refused | TLS refused | TLS refused    |
| coordinator | grpc.reflection.v1.ServerReflection/ServerReflectionInfo      | allowed | allowed         | allowed     | allowed    | allowed   | allowed              | allowed    | allowed               | TLS refused | TLS refused | TLS refused    |
| coordinator | grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo | allowed | allowed         | allowed     | allowed    | allowed   | allowed              | allowed    | allowed               | TLS refused | TLS refused | TLS refused    |
""";

    /// <summary>
    /// The same RPCs called through a portal (delegation). The portal is erlangen's portal-erlangen
    /// certificate; "portal other site" is portal-munich. "portal for ROLE" sends the end-user
    /// metadata (midia-end-user-bin) the portal sends for a signed-in person of that role (of
    /// erlangen where the role is site-bound; the researcher names no site); "portal other site
    /// for patient" is munich's portal for a munich patient. The last two send end-user metadata
    /// the servers must refuse outright (PERMISSION_DENIED even for health): erlangen's portal
    /// claiming a munich clinician, and a clinician certificate claiming to be a site admin.
    /// A delegated person may do exactly what their role's certificate may do (the first table),
    /// a patient only PatientAccess at their own site's node; the portal itself, with nobody signed
    /// in, nothing but health and reflection.
    /// </summary>
    public const string PortalTable = """
| server      | rpc                                                           | portal  | portal other site | portal for researcher | portal for clinician | portal for site-admin | portal for patient | portal other site for patient | portal for munich clinician | clinician as site-admin |
|-------------|---------------------------------------------------------------|---------|-------------------|-----------------------|----------------------|-----------------------|--------------------|-------------------------------|-----------------------------|-------------------------|
| node        | midia.node.v1.SiteNode/CohortCount                            | denied  | denied            | denied                | denied               | denied                | denied             | denied                        | denied                      | denied                  |
| node        | midia.node.v1.SiteNode/StratifiedCount                        | denied  | denied            | denied                | denied               | denied                | denied             | denied                        | denied                      | denied                  |
| node        | midia.node.v1.PatientCare/ResolvePatient                      | denied  | denied            | denied                | allowed              | denied                | denied             | denied                        | denied                      | denied                  |
| node        | midia.node.v1.PatientCare/OpenTicket                          | denied  | denied            | denied                | denied               | denied                | denied             | denied                        | denied                      | denied                  |
| node        | midia.node.v1.PatientCare/PatientSummary                      | denied  | denied            | denied                | denied               | denied                | denied             | denied                        | denied                      | denied                  |
| node        | midia.node.v1.PatientCare/PatientReport                       | denied  | denied            | denied                | denied               | denied                | denied             | denied                        | denied                      | denied                  |
| node        | midia.consent.v1.ConsentReceiver/Apply                        | denied  | denied            | denied                | denied               | denied                | denied             | denied                        | denied                      | denied                  |
| node        | midia.node.v1.SiteAdmin/ListQueryTypes                        | denied  | denied            | denied                | denied               | allowed               | denied             | denied                        | denied                      | denied                  |
| node        | midia.node.v1.SiteAdmin/Approve                               | denied  | denied            | denied                | denied               | allowed               | denied             | denied                        | denied                      | denied                  |
| node        | midia.node.v1.SiteAdmin/Deny                                  | denied  | denied            | denied                | denied               | allowed               | denied             | denied                        | denied                      | denied                  |
| node        | midia.node.v1.SiteAdmin/Revoke                                | denied  | denied            | denied                | denied               | allowed               | denied             | denied                        | denied                      | denied                  |
| node        | midia.node.v1.SiteAdmin/ListDisclosure                        | denied  | denied            | denied                | denied               | allowed               | denied             | denied                        | denied                      | denied                  |
| node        | midia.node.v1.SiteAdmin/SetDisclosure                         | denied  | denied            | denied                | denied               | allowed               | denied             | denied                        | denied                      | denied                  |
| node        | midia.node.v1.SiteAdmin/Audit                                 | denied  | denied            | denied                | denied               | allowed               | denied             | denied                        | denied                      | denied                  |
| node        | midia.node.v1.PatientAccess/Consent                           | denied  | denied            | denied                | denied               | denied                | allowed            | denied                        | denied                      | denied                  |
| node        | midia.node.v1.PatientAccess/SetConsent                        | denied  | denied            | denied                | denied               | denied                | allowed            | denied                        | denied                      | denied                  |
| node        | midia.node.v1.PatientAccess/Report                            | denied  | denied            | denied                | denied               | denied                | allowed            | denied                        | denied                      | denied                  |
| node        | grpc.health.v1.Health/Check                                   | allowed | allowed           | allowed               | allowed              | allowed               | allowed            | allowed                       | denied                      | denied                  |
| node        | grpc.health.v1.Health/Watch                                   | allowed | allowed           | allowed               | allowed              | allowed               | allowed            | allowed                       | denied                      | denied                  |
| node        | grpc.reflection.v1.ServerReflection/ServerReflectionInfo      | allowed | allowed           | allowed               | allowed              | allowed               | allowed            | allowed                       | denied                      | denied                  |
| node        | grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo | allowed | allowed           | allowed               | allowed              | allowed               | allowed            | allowed                       | denied                      | denied                  |
| coordinator | midia.coordinator.v1.Research/Count                           | denied  | denied            | allowed               | denied               | denied                | denied             | denied                        | denied                      | denied                  |
| coordinator | midia.coordinator.v1.Research/Sites                           | denied  | denied            | allowed               | allowed              | allowed               | denied             | denied                        | denied                      | denied                  |
| coordinator | midia.coordinator.v1.Research/Quota                           | denied  | denied            | allowed               | denied               | denied                | denied             | denied                        | denied                      | denied                  |
| coordinator | midia.coordinator.v1.Research/History                         | denied  | denied            | allowed               | denied               | denied                | denied             | denied                        | denied                      | denied                  |
| coordinator | midia.coordinator.v1.Care/Summary                             | denied  | denied            | denied                | allowed              | denied                | denied             | denied                        | denied                      | denied                  |
| coordinator | midia.coordinator.v1.Care/PatientReport                       | denied  | denied            | denied                | allowed              | denied                | denied             | denied                        | denied                      | denied                  |
| coordinator | midia.coordinator.v1.Projects/Register                        | denied  | denied            | allowed               | denied               | denied                | denied             | denied                        | denied                      | denied                  |
| coordinator | midia.coordinator.v1.Projects/Publish                         | denied  | denied            | allowed               | denied               | denied                | denied             | denied                        | denied                      | denied                  |
| coordinator | midia.coordinator.v1.Projects/List                            | denied  | denied            | allowed               | allowed              | allowed               | denied             | denied                        | denied                      | denied                  |
| coordinator | midia.consent.v1.ConsentLog/Submit                            | denied  | denied            | denied                | denied               | denied                | denied             | denied                        | denied                      | denied                  |
| coordinator | midia.consent.v1.ConsentLog/Pull                              | denied  | denied            | denied                | denied               | denied                | denied             | denied                        | denied                      | denied                  |
| coordinator | midia.consent.v1.ConsentLog/Applied                           | denied  | denied            | denied                | denied               | denied                | denied             | denied                        | denied                      | denied                  |
| coordinator | grpc.health.v1.Health/Check                                   | allowed | allowed           | allowed               | allowed              | allowed               | allowed            | allowed                       | denied                      | denied                  |
| coordinator | grpc.health.v1.Health/Watch                                   | allowed | allowed           | allowed               | allowed              | allowed               | allowed            | allowed                       | denied                      | denied                  |
| coordinator | grpc.reflection.v1.ServerReflection/ServerReflectionInfo      | allowed | allowed           | allowed               | allowed              | allowed               | allowed            | allowed                       | denied                      | denied                  |
| coordinator | grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo | allowed | allowed           | allowed               | allowed              | allowed               | allowed            | allowed                       | denied                      | denied                  |
""";

    /// <summary>A request that gets past the handler's first checks where a site or patient must be named; every other RPC gets an empty message.</summary>
    static readonly Dictionary<string, IMessage> Requests = new()
    {
        ["midia.node.v1.PatientCare/ResolvePatient"] = new Protos.Node.V1.ResolvePatientRequest { LocalId = "no-such-patient" },
        ["midia.coordinator.v1.Care/Summary"] = new Protos.Coordinator.V1.SummaryRequest { Site = "erlangen", Ticket = "not-a-ticket" },
        // origin_change_id 0 is invalid: the node of the named site is told so (and nothing is logged); another site's node is denied first.
        ["midia.consent.v1.ConsentLog/Submit"] = new Protos.Consent.V1.SubmitRequest
        {
            Changes = { new Protos.Consent.V1.ConsentChange { OriginSite = "erlangen", OriginChangeId = 0, Linkage = "x", Policy = "research" } },
        },
        // A valid purpose but no patient: the portal's own patient gets INVALID_ARGUMENT (nothing is changed), anyone else PERMISSION_DENIED.
        ["midia.node.v1.PatientAccess/SetConsent"] = new Protos.Node.V1.SetPatientConsentRequest { Purpose = "research", Permit = true },
        ["midia.coordinator.v1.Projects/Publish"] = new Protos.Coordinator.V1.PublishResultRequest { Id = "no-such-project", Result = "none" },
        ["grpc.reflection.v1.ServerReflection/ServerReflectionInfo"] = new Grpc.Reflection.V1.ServerReflectionRequest { ListServices = "" },
        ["grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"] = new Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "" },
    };

    readonly List<IDisposable> owned = [];

    [Fact]
    public Task EveryServedRpcAnswersEveryIdentityAsTheTableSays() => Check(Table);

    [Fact]
    public Task EveryServedRpcAnswersEveryPortalIdentityAsThePortalTableSays() => Check(PortalTable);

    async Task Check(string table)
    {
        var expected = MatrixTable.Parse(table);
        var servers = new Dictionary<string, Uri> { ["node"] = network.Node("erlangen"), ["coordinator"] = network.Coordinator };

        // What the servers actually serve, from their own reflection service.
        var served = new Dictionary<(string Server, string Rpc), MethodType>();
        foreach (var (server, address) in servers)
        {
            var reflector = Identity("coordinator", address);
            foreach (var (rpc, type) in await ServedRpcsAsync(reflector))
                served.Add((server, rpc), type);
        }
        var missing = served.Keys.Where(s => !expected.Rows.ContainsKey(s)).ToList();
        Assert.True(missing.Count == 0,
            "served RPCs without a row in the authorization matrix (add one to this table and its copy in SECURITY.md):\n" + string.Join("\n", missing.Select(m => $"| {m.Server} | {m.Rpc} | ...")));
        var stale = expected.Rows.Keys.Where(k => !served.ContainsKey(k)).ToList();
        Assert.True(stale.Count == 0, "rows for RPCs the servers do not serve:\n" + string.Join("\n", stale.Select(s => $"{s.Server} {s.Rpc}")));

        var callers = servers.ToDictionary(s => s.Key, s => expected.Identities.ToDictionary(i => i, i => Identity(i, s.Value)));
        var actual = new Dictionary<(string Server, string Rpc), string[]>();
        var wrong = new List<string>();
        foreach (var ((server, rpc), outcomes) in expected.Rows)
        {
            var slash = rpc.IndexOf('/');
            var request = Requests.TryGetValue(rpc, out var message) ? message.ToByteArray() : [];
            var row = new string[expected.Identities.Count];
            for (var i = 0; i < expected.Identities.Count; i++)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                var (outcome, _) = await callers[server][expected.Identities[i]].CallAsync(rpc[..slash], rpc[(slash + 1)..], served[(server, rpc)], request, timeout.Token);
                row[i] = MatrixTable.Classify(outcome);
                if (row[i] != outcomes[i]) wrong.Add($"{server} {rpc} as {expected.Identities[i]}: expected {outcomes[i]}, got {row[i]}: {outcome}");
            }
            actual[(server, rpc)] = row;
        }
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {expected.Rows.Count * expected.Identities.Count} cells differ:\n{string.Join("\n", wrong)}\n\nwhat the servers did:\n{MatrixTable.Format(expected.Identities, actual)}");
    }

    [Fact]
    public async Task TheServersLogWhyTheyRefusedACertificateInTheHandshake()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        foreach (var column in new[] { "foreign CA", "expired" })
        {
            var caller = Identity(column, network.Node("erlangen"));
            var (outcome, _) = await caller.CallAsync("grpc.health.v1.Health", "Check", MethodType.Unary, [], timeout.Token);
            Assert.True(outcome.TlsRefused, $"{caller.Name}: {outcome}");
        }
        // "TLS refused" is the server's decision, not a network accident: it says why in its log.
        var log = Path.Combine(network.Logs, "erlangen.log");
        await Eventually(() => File.ReadAllText(log) is var text && text.Contains("Refused a client certificate: certificate 'CN=coordinator, OU=coordinator, O=Midia Federated (development only)' is not issued by the network CA")
            && text.Contains("Refused a client certificate: certificate 'CN=coordinator, OU=coordinator, O=Midia Federated (development only)' expired on"),
            $"{log} names both refusals");
    }

    static async Task Eventually(Func<bool> condition, string what, int seconds = 60)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > until) Assert.Fail($"not within {seconds} s: {what}");
            await Task.Delay(100);
        }
    }

    /// <summary>The identity of a column, as a caller of <paramref name="server"/> holding that certificate (or none).</summary>
    Caller Identity(string column, Uri server)
    {
        var certificate = column switch
        {
            "node" => Network("node-erlangen"),
            "node other site" => Network("node-munich"),
            "coordinator" => Network("coordinator"),
            "researcher" => Network("researcher"),
            "clinician" => Network("clinician-erlangen"),
            "clinician other site" => Network("clinician-munich"),
            "site-admin" => Network("site-admin-erlangen"),
            "site-admin other site" => Network("site-admin-munich"),
            "foreign CA" => Foreign(),
            "expired" => Expired(),
            "no certificate" => null,
            "portal" or "portal for researcher" or "portal for clinician" or "portal for site-admin" or "portal for patient" or "portal for munich clinician" => Network("portal-erlangen"),
            "portal other site" or "portal other site for patient" => Network("portal-munich"),
            "clinician as site-admin" => Network("clinician-erlangen"),
            _ => throw new InvalidOperationException($"identity column '{column}' is unknown to the test: add how to make its certificate"),
        };
        // The person a portal names in the end-user metadata (Delegation.EndUserEntry), as it does for whoever signed in.
        (string Role, string Name, string? Site)? endUser = column switch
        {
            "portal for researcher" => ("researcher", "Dr. Ada Research", null),
            "portal for clinician" => ("clinician", "Dr. Clinician (erlangen)", "erlangen"),
            "portal for site-admin" => ("site-admin", "Site admin (erlangen)", "erlangen"),
            "portal for patient" => ("patient", "Patient of erlangen", "erlangen"),
            "portal other site for patient" => ("patient", "Patient of munich", "munich"),
            "portal for munich clinician" => ("clinician", "Dr. Clinician (munich)", "munich"),
            "clinician as site-admin" => ("site-admin", "clinician-erlangen", "erlangen"),
            _ => null,
        };
        var caller = new Caller(column, server, certificate, endUser);
        owned.Add(caller);
        return caller;
    }

    /// <summary>A certificate `midia dev up` made, loaded by the one certificate loader (which also checks it chains to the CA).</summary>
    X509Certificate2 Network(string name) =>
        Keep(TlsMaterial.Load(Path.Combine(network.Certs, name + ".crt"), Path.Combine(network.Certs, name + ".key"), Path.Combine(network.Certs, "ca.crt"))).Certificate;

    X509Certificate2 Foreign()
    {
        using var authority = DevCertificates.CreateAuthority("A Foreign CA");
        using var certificate = DevCertificates.Issue(authority, "coordinator", "coordinator");
        return Keep(new TlsMaterial(certificate, [])).Certificate;
    }

    X509Certificate2 Expired()
    {
        using var authority = DevCertificates.LoadAuthority(network.Certs);
        using var certificate = DevCertificates.Issue(authority, "coordinator", "coordinator",
            notBefore: DateTimeOffset.UtcNow.AddDays(-30), notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        return Keep(new TlsMaterial(certificate, [])).Certificate;
    }

    TlsMaterial Keep(TlsMaterial material)
    {
        owned.Add(material);
        return material;
    }

    /// <summary>"package.Service/Method" and kind of every RPC the server's reflection lists, read from the descriptors it serves.</summary>
    static async Task<List<(string Rpc, MethodType Type)>> ServedRpcsAsync(Caller caller)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var names = (await ReflectAsync(caller, new Grpc.Reflection.V1.ServerReflectionRequest { ListServices = "" }, timeout.Token))
            .ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.NotEmpty(names);
        var rpcs = new List<(string, MethodType)>();
        foreach (var name in names)
        {
            var files = (await ReflectAsync(caller, new Grpc.Reflection.V1.ServerReflectionRequest { FileContainingSymbol = name }, timeout.Token))
                .FileDescriptorResponse.FileDescriptorProto.Select(FileDescriptorProto.Parser.ParseFrom);
            var service = files.SelectMany(f => f.Service.Select(s => (Full: $"{f.Package}.{s.Name}", s))).Single(s => s.Full == name).s;
            rpcs.AddRange(service.Method.Select(m => ($"{name}/{m.Name}", (m.ClientStreaming, m.ServerStreaming) switch
            {
                (false, false) => MethodType.Unary,
                (false, true) => MethodType.ServerStreaming,
                (true, false) => MethodType.ClientStreaming,
                (true, true) => MethodType.DuplexStreaming,
            })));
        }
        return rpcs;
    }

    static async Task<Grpc.Reflection.V1.ServerReflectionResponse> ReflectAsync(Caller caller, Grpc.Reflection.V1.ServerReflectionRequest request, CancellationToken cancellationToken)
    {
        var (outcome, message) = await caller.CallAsync("grpc.reflection.v1.ServerReflection", "ServerReflectionInfo", MethodType.DuplexStreaming, request.ToByteArray(), cancellationToken);
        Assert.True(message is not null, $"reflection as {caller.Name} did not answer: {outcome}");
        return Grpc.Reflection.V1.ServerReflectionResponse.Parser.ParseFrom(message);
    }

    public void Dispose()
    {
        foreach (var item in owned) item.Dispose();
    }
}
