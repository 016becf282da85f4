using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Midia.Testing;
using Midia.Trust.Tests.Probe;
using Midia.Trust.Tests.Support;

namespace Midia.Trust.Tests;

/// <summary>
/// The network server's rules end to end, in memory (the socket is not the point here): certificate
/// authentication, delegation, authorization with PERMISSION_DENIED and the rule's reason, the
/// fallback policy, the start-up check, unknown methods, request ids — the whole pipeline of
/// trust/'s NetworkServer, as nodes and the coordinator run it.
/// </summary>
public sealed class NetworkServerTests : IAsyncLifetime
{
    const string Site = "erlangen";
    readonly TestCertificates certificates = new("Trust Tests CA");
    readonly List<Refused> refusals = [];
    WebApplication server = null!;

    /// <summary>What the server's refusal recorder saw (a node's audit records these).</summary>
    sealed record Refused(string Method, PeerIdentity? Caller, string Reason);

    sealed class Recorder(List<Refused> into) : IRefusalRecorder
    {
        public Task RecordAsync(string method, PeerIdentity? caller, string reason, CancellationToken cancellationToken)
        {
            lock (into) into.Add(new Refused(method, caller, reason));
            return Task.CompletedTask;
        }
    }

    public async Task InitializeAsync()
    {
        server = ProbeServers.Create(ProbeServers.Options(certificates.Material("node", "node-erlangen", Site)), inMemory: true,
            configure: b => b.Services.AddSingleton<IRefusalRecorder>(new Recorder(refusals)));
        await server.StartNetworkServerAsync();
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        certificates.Dispose();
    }

    (GrpcChannel Channel, Probe.Probe.ProbeClient Client) Connect(string role, string name, string? site = null)
    {
        var channel = server.Channel(certificates.Material(role, name, site).Certificate);
        return (channel, new Probe.Probe.ProbeClient(channel));
    }

    [Fact]
    public async Task TheRequiredRoleMayCallAndTheServiceSeesTheCaller()
    {
        var (channel, client) = Connect("coordinator", "coordinator");
        using (channel)
            Assert.Equal(new WhoReply { Name = "coordinator", Role = "coordinator" }, await client.CoordinatorOnlyAsync(new WhoRequest()));
    }

    [Fact]
    public async Task AnotherRoleIsDeniedWithAMessageNamingTheRequiredRoleBeforeTheServiceRuns()
    {
        var (channel, client) = Connect("researcher", "Dr R");
        using (channel)
        {
            var error = await Assert.ThrowsAsync<RpcException>(async () => await client.CoordinatorOnlyAsync(new WhoRequest()));
            Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
            Assert.Equal("requires role coordinator; caller has role researcher", error.Status.Detail);
        }
        Assert.Equal(new Refused("/midia.trust.test.Probe/CoordinatorOnly", new PeerIdentity("Dr R", "researcher", null), "requires role coordinator; caller has role researcher"),
            Assert.Single(refusals));
    }

    [Fact]
    public async Task AStreamingRpcIsRefusedTheSameWay()
    {
        var (channel, client) = Connect("researcher", "Dr R");
        using (channel)
        {
            using var call = client.CoordinatorStream(new WhoRequest());
            var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
            Assert.Equal(new Status(StatusCode.PermissionDenied, "requires role coordinator; caller has role researcher"), error.Status);
        }
        var (allowedChannel, allowed) = Connect("coordinator", "coordinator");
        using (allowedChannel)
        {
            using var call = allowed.CoordinatorStream(new WhoRequest());
            var replies = 0;
            while (await call.ResponseStream.MoveNext()) replies++;
            Assert.Equal(2, replies);
        }
    }

    [Fact]
    public async Task AnotherSitesAdminIsDeniedWithTheRulesMessage()
    {
        var (channel, client) = Connect("site-admin", "admin-munich", "munich");
        using (channel)
        {
            var error = await Assert.ThrowsAsync<RpcException>(async () => await client.OwnSiteAdminAsync(new WhoRequest()));
            Assert.Equal(new Status(StatusCode.PermissionDenied, "erlangen: you are a site admin of 'munich', this server is site 'erlangen'"), error.Status);
        }
        var (ownChannel, own) = Connect("site-admin", "admin-erlangen", Site);
        using (ownChannel)
            Assert.Equal("admin-erlangen", (await own.OwnSiteAdminAsync(new WhoRequest())).Name);
    }

    [Fact]
    public async Task APortalsEndUserIsTheCallerWithThePortalAsVia()
    {
        var (channel, client) = Connect("portal", "portal-erlangen", Site);
        using (channel)
        {
            var reply = await client.OwnSiteAdminAsync(new WhoRequest(), new Metadata { Delegation.EndUserEntry("site-admin", "Dr Admin", Site) });
            Assert.Equal(new WhoReply { Name = "Dr Admin", Role = "site-admin", Site = Site, Via = "portal-erlangen" }, reply);
            // Without the end-user metadata the portal is itself the caller, and holds no site-admin role.
            var error = await Assert.ThrowsAsync<RpcException>(async () => await client.OwnSiteAdminAsync(new WhoRequest()));
            Assert.Equal("requires role site-admin; caller has role portal", error.Status.Detail);
        }
    }

    [Fact]
    public async Task EndUserMetadataFromANonPortalIsRefusedNotIgnoredEvenWhereAnyPeerMayCall()
    {
        var (channel, client) = Connect("researcher", "Dr R");
        using (channel)
        {
            var error = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.WhoAmIAsync(new WhoRequest(), new Metadata { Delegation.EndUserEntry("clinician", "Dr C", Site) }));
            Assert.Equal(new Status(StatusCode.PermissionDenied,
                "end-user metadata (midia-end-user-bin) is honoured only from a portal certificate; caller has role researcher"), error.Status);
        }
    }

    [Fact]
    public async Task APortalMayNotActForAnotherSitesClinician()
    {
        var (channel, client) = Connect("portal", "portal-erlangen", Site);
        using (channel)
        {
            var error = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.WhoAmIAsync(new WhoRequest(), new Metadata { Delegation.EndUserEntry("clinician", "Dr C", "munich") }));
            Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
            Assert.Equal("portal-erlangen is the portal of site 'erlangen'; it may act for a clinician of that site only, not of 'munich'", error.Status.Detail);
        }
    }

    [Fact]
    public async Task AServerWithoutDelegationRefusesEndUserMetadata()
    {
        await using var strict = ProbeServers.Create(new NetworkServerOptions { Tls = certificates.Material("node", "node-strict", Site), Site = Site, Delegation = null }, inMemory: true);
        await strict.StartNetworkServerAsync();
        using var channel = strict.Channel(certificates.Material("portal", "portal-erlangen", Site).Certificate);
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await new Probe.Probe.ProbeClient(channel).WhoAmIAsync(new WhoRequest(), new Metadata { Delegation.EndUserEntry("researcher", "Dr R", null) }));
        Assert.Equal(new Status(StatusCode.PermissionDenied, "this server honours no end-user metadata (midia-end-user-bin)"), error.Status);
    }

    [Fact]
    public async Task AnUnknownMethodOrServiceIsUnimplemented()
    {
        var (channel, _) = Connect("researcher", "Dr R");
        using (channel)
        {
            var marshaller = Marshallers.Create((WhoRequest m) => Google.Protobuf.MessageExtensions.ToByteArray(m), WhoRequest.Parser.ParseFrom);
            var nope = new Method<WhoRequest, WhoRequest>(MethodType.Unary, "midia.trust.test.Probe", "Nope", marshaller, marshaller);
            var method = await Assert.ThrowsAsync<RpcException>(async () => await channel.CreateCallInvoker().AsyncUnaryCall(nope, null, new CallOptions(), new WhoRequest()));
            Assert.Equal(StatusCode.Unimplemented, method.StatusCode);
            // A service this server does not map (Unruled is mapped only where the rule check is under test).
            var service = await Assert.ThrowsAsync<RpcException>(async () => await new Probe.Unruled.UnruledClient(channel).CallAsync(new WhoRequest()));
            Assert.Equal(StatusCode.Unimplemented, service.StatusCode);
        }
    }

    [Fact]
    public async Task HealthIsOpenToAnyNetworkPeerAndReportsEveryServiceServing()
    {
        var (channel, _) = Connect("researcher", "Dr R");
        using (channel)
        {
            var health = new Health.HealthClient(channel);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "midia.trust.test.Probe" })).Status);
            var unknown = await Assert.ThrowsAsync<RpcException>(async () => await health.CheckAsync(new HealthCheckRequest { Service = "no.Such" }));
            Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        }
    }

    [Fact]
    public async Task AnAnsweredCallHasARequestIdInItsTrailersTheCallersIfItGaveAUsableOne()
    {
        var (channel, client) = Connect("researcher", "Dr R");
        using (channel)
        {
            async Task<string?> IdOf(Metadata? headers)
            {
                using var call = client.WhoAmIAsync(new WhoRequest(), headers);
                await call;
                return call.GetTrailers().GetValue(RequestIds.Header);
            }
            Assert.Equal("query-42.a_b", await IdOf(new Metadata { { RequestIds.Header, "query-42.a_b" } }));
            Assert.Matches("^[0-9a-f]{32}$", await IdOf(null));
            // Not one the log could carry safely: replaced by a fresh id.
            Assert.Matches("^[0-9a-f]{32}$", await IdOf(new Metadata { { RequestIds.Header, "evil id; DROP" } }));
            Assert.Matches("^[0-9a-f]{32}$", await IdOf(new Metadata { { RequestIds.Header, new string('x', 65) } }));
        }
    }

    [Fact]
    public async Task AServerWithAnRpcWithoutARuleDoesNotStart()
    {
        await using var app = ProbeServers.Create(ProbeServers.Options(certificates.Material("node", "node-x", Site)), inMemory: true,
            map: a => a.MapNetworkService<UnruledService>());
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartNetworkServerAsync());
        Assert.Contains("has no authorization rule", error.Message);
        Assert.Contains("Unruled", error.Message);
    }

    [Fact]
    public async Task TheFallbackPolicyRefusesAnRpcWithoutARuleEvenIfTheServerWasStartedAnyway()
    {
        await using var app = ProbeServers.Create(ProbeServers.Options(certificates.Material("node", "node-x", Site)), inMemory: true,
            map: a => a.MapNetworkService<UnruledService>());
        await app.StartAsync(); // past the start-up check
        using var channel = app.Channel(certificates.Material("coordinator", "coordinator").Certificate);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await new Probe.Unruled.UnruledClient(channel).CallAsync(new WhoRequest()));
        Assert.Equal(new Status(StatusCode.PermissionDenied, "this RPC has no authorization rule"), error.Status);
    }

    public static TheoryData<string, string, string?> Matrix()
    {
        var data = new TheoryData<string, string, string?>();
        foreach (var method in new[] { nameof(ProbeService.WhoAmI), nameof(ProbeService.CoordinatorOnly), nameof(ProbeService.OwnSiteAdmin) })
            foreach (var (role, site) in new (string, string?)[] { ("coordinator", null), ("researcher", null), ("site-admin", Site), ("site-admin", "munich"), ("node", "munich") })
                data.Add(method, role, site);
        return data;
    }

    /// <summary>Midia.Testing's Rules (what service tests use) judge exactly as the running server does.</summary>
    [Theory, MemberData(nameof(Matrix))]
    public async Task TheRulesOfAMethodJudgedWithoutAServerMatchTheServersAnswer(string method, string role, string? site)
    {
        var caller = new PeerIdentity($"{role}-{site}", role, site);
        var expected = await Rules.RefusalAsync(typeof(ProbeService), method, caller, Site);
        var (channel, client) = Connect(role, caller.Name, site);
        using (channel)
        {
            string? actual = null;
            try
            {
                await (method switch
                {
                    nameof(ProbeService.WhoAmI) => client.WhoAmIAsync(new WhoRequest()).ResponseAsync,
                    nameof(ProbeService.CoordinatorOnly) => client.CoordinatorOnlyAsync(new WhoRequest()).ResponseAsync,
                    _ => client.OwnSiteAdminAsync(new WhoRequest()).ResponseAsync,
                });
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.PermissionDenied) { actual = e.Status.Detail; }
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public async Task AServiceCalledDirectlyWithATestCallContextSeesTheCallerAndThePortal()
    {
        var person = new PeerIdentity("Grete Müller", "patient", Site) { Via = new PeerIdentity("portal-erlangen", "portal", Site) };
        var reply = await new ProbeService().WhoAmI(new WhoRequest(), CallContexts.For(person));
        Assert.Equal(new WhoReply { Name = "Grete Müller", Role = "patient", Site = Site, Via = "portal-erlangen" }, reply);
    }
}
