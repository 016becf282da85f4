using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Midia.Node.Consent;
using Midia.Node.Linkage;
using Midia.Node.Serve;
using Midia.Node.Store;
using Midia.Protos.Node.V1;
using Midia.Testing;
using Midia.Trust;

namespace Midia.Interop.Tests.Hostile;

/// <summary>
/// A real node server, built as `midia-node serve` builds it (<see cref="NodeServer.Create"/>),
/// on Kestrel over mutual TLS on 127.0.0.1 with certificates of a throw-away CA and an empty site
/// database: what the hostile inputs are thrown at. <see cref="Target"/> is the RPC they go to —
/// one a site admin of the node's own site may call, so a well-formed request is answered OK and
/// anything else is the hostile input's doing.
/// </summary>
public sealed class HostileNode : IAsyncLifetime
{
    public const string Site = "hostile";
    public const string Target = "/midia.node.v1.SiteAdmin/ListQueryTypes";

    readonly string directory = Directory.CreateTempSubdirectory("midia-hostile-").FullName;
    WebApplication app = null!;

    public TestCertificates Certificates { get; } = new("Hostile Tests CA");
    public Uri Address { get; private set; } = null!;
    /// <summary>The caller every raw request comes from: this site's admin.</summary>
    public TlsMaterial Admin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var database = Path.Combine(directory, "site.db");
        SiteDatabase.Open(database).Dispose();
        Admin = Certificates.Material("site-admin", "hostile-admin", Site);
        var settings = new NodeSettings(Site, database, new IPEndPoint(IPAddress.Loopback, 0), Certificates.Material("node", "node-hostile", Site),
            new Uri("https://127.0.0.1:9"), LinkageKey.FromSecret("a hostile test linkage secret of at least 32 bytes"u8)) { Sessions = 2 };
        app = NodeServer.Create(settings, configure: builder =>
        {
            builder.Logging.ClearProviders();
            // No coordinator here: the consent sync would only knock on a closed port.
            builder.Services.Configure<ConsentSyncOptions>(o => o.Interval = TimeSpan.FromHours(1));
        });
        Address = await app.StartNetworkServerAsync();
    }

    public RawGrpc Raw(bool multipleConnections = true) => new(Address, Admin, multipleConnections);

    /// <summary>A well-formed call through grpc-dotnet's client over trust/'s channel, as the portal makes it: the node still answers.</summary>
    public async Task<QueryTypesReply> ListQueryTypesAsync()
    {
        using var channel = NetworkChannel.Open(Address, Admin, new ServerPin("node", Site));
        return await new SiteAdmin.SiteAdminClient(channel.Invoker).ListQueryTypesAsync(new ListQueryTypesRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
    }

    public async Task DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        Certificates.Dispose();
        try { Directory.Delete(directory, recursive: true); }
        catch (IOException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class HostileCollection : ICollectionFixture<HostileNode>
{
    public const string Name = "hostile node";
}
