using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Midia.Node.Audit;
using Midia.Node.Store;
using Midia.Portal.Tests.Support;
using Midia.Protos.Coordinator.V1;
using ResearchClient = Midia.Protos.Coordinator.V1.Research.ResearchClient;
using Midia.Protos.Node.V1;
using Midia.Trust;
using PatientCare = Midia.Protos.Node.V1.PatientCare;

namespace Midia.Portal.Tests;

/// <summary>
/// End-user metadata over real mutual TLS: honoured only from a portal certificate, and for
/// site-bound roles only for the portal's own site; the audit names person and portal.
/// </summary>
public sealed class DelegationTests : IAsyncLifetime
{
    readonly PortalTestNetwork network = new("erlangen", "munich");

    PatientCare.PatientCareClient Node(TlsMaterial tls, string site) => new(network.Client(tls, site));
    ResearchClient Coordinator(TlsMaterial tls) => new(network.Client(tls));

    public async Task InitializeAsync() => await network.StartAsync();
    public async Task DisposeAsync() => await network.DisposeAsync();

    static CallOptions As(string role, string name, string? site) => PortalTestNetwork.Deadline(headers: [Delegation.EndUserEntry(role, name, site)]);

    static async Task<RpcException> Refused<T>(AsyncUnaryCall<T> call) => await Assert.ThrowsAsync<RpcException>(async () => await call);

    [Fact]
    public async Task A_certificate_without_the_portal_role_cannot_use_end_user_metadata()
    {
        // A researcher tries to pass as a clinician of erlangen; a node as a researcher.
        var researcher = Node(network.Material("researcher", "Dr Sneaky"), "erlangen");
        var e = await Refused(researcher.ResolvePatientAsync(new ResolvePatientRequest { LocalId = "p1" }, As("clinician", "Dr Sneaky", "erlangen")));
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("only from a portal certificate", e.Status.Detail);

        var node = Coordinator(network.Material("node", "node-munich", "munich"));
        e = await Refused(node.QuotaAsync(new QuotaRequest(), As("researcher", "Dr Node", null)));
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("caller has role node", e.Status.Detail);
    }

    [Fact]
    public async Task A_portal_cannot_claim_a_role_of_another_site_nor_a_server_role()
    {
        var portal = Node(network.Material("portal", "portal-munich", "munich"), "erlangen");
        var e = await Refused(portal.ResolvePatientAsync(new ResolvePatientRequest { LocalId = "p1" }, As("clinician", "Dr M", "erlangen")));
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("portal of site 'munich'", e.Status.Detail);

        e = await Refused(portal.ResolvePatientAsync(new ResolvePatientRequest { LocalId = "p1" }, As("coordinator", "me", null)));
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("may not act for role coordinator", e.Status.Detail);

        // Its own site's clinician is its own business, but munich's node is not erlangen's.
        e = await Refused(portal.ResolvePatientAsync(new ResolvePatientRequest { LocalId = "p1" }, As("clinician", "Dr M", "munich")));
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("this node is site 'erlangen'", e.Status.Detail);
    }

    [Fact]
    public async Task Without_metadata_a_portal_is_only_a_portal()
    {
        var portal = Coordinator(network.Material("portal", "portal-erlangen", "erlangen"));
        var e = await Refused(portal.QuotaAsync(new QuotaRequest(), PortalTestNetwork.Deadline()));
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("caller has role portal", e.Status.Detail);
    }

    [Fact]
    public async Task The_portal_acts_with_the_end_users_role_and_the_audit_names_both()
    {
        var portal = Coordinator(network.Material("portal", "portal-erlangen", "erlangen"));
        var quota = await portal.QuotaAsync(new QuotaRequest(), As("researcher", "ada", null));
        Assert.NotEmpty(quota.Windows);

        // A delegated clinician of erlangen reaches erlangen's node as a clinician: the answer is
        // about the patient (none such), not about the role, and the audit names person and portal.
        network["erlangen"].ApproveExact("patient-summary");
        var node = Node(network.Material("portal", "portal-erlangen", "erlangen"), "erlangen");
        var e = await Refused(node.ResolvePatientAsync(new ResolvePatientRequest { LocalId = "p1" }, As("clinician", "Dr Ada Clin", "erlangen")));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        using var connection = SiteDatabase.Open(network["erlangen"].DbPath);
        var entry = new AuditLog(connection).Read().Last();
        Assert.Equal(("Dr Ada Clin via portal-erlangen", "clinician"), (entry.UserName, entry.UserRole));
    }

    [Fact]
    public void Resolve_rules_in_one_table()
    {
        var portal = new PeerIdentity("portal-erlangen", "portal", "erlangen");
        static byte[] Claim(string role, string? site) => Delegation.EndUserEntry(role, "someone", site).ValueBytes;
        var cases = new (PeerIdentity Caller, string Role, string? Site, bool Allowed)[]
        {
            (portal, "researcher", null, true),
            (portal, "clinician", "erlangen", true),
            (portal, "site-admin", "erlangen", true),
            (portal, "patient", "erlangen", true),
            (portal, "patient", null, false),
            (portal, "site-admin", "munich", false),
            (portal, "researcher", "munich", false),
            (portal, "node", "erlangen", false),
            (portal, "portal", "erlangen", false),
            (new PeerIdentity("portal-x", "portal", null), "clinician", "erlangen", false),
            (new PeerIdentity("Dr R", "researcher", null), "researcher", null, false),
            (new PeerIdentity("coordinator", "coordinator", null), "researcher", null, false),
        };
        foreach (var (caller, role, site, allowed) in cases)
        {
            var who = Delegation.Portal.Resolve(caller, Claim(role, site), out var refusal);
            Assert.True(allowed == (who is not null && refusal is null), $"{caller} as {role}@{site}: {refusal}");
            if (allowed) Assert.Equal((role, site, caller), (who!.Role, who.Site, who.Via));
        }
    }

    /// <summary>
    /// Where the servers apply the rules (between authentication and authorization): no metadata
    /// leaves the portal the portal; an allowed claim makes the call that person's, with the portal
    /// as actor; a refused one is kept for every rule to refuse.
    /// </summary>
    [Fact]
    public async Task Without_metadata_the_caller_stays_itself_and_a_claim_becomes_the_person_or_a_refusal()
    {
        var portal = new PeerIdentity("portal-erlangen", "portal", "erlangen");
        async Task<HttpContext> Apply(PeerIdentity caller, string? role, string? site)
        {
            var context = new DefaultHttpContext { User = caller.ToPrincipal(NetworkAuthentication.Scheme) };
            if (role is not null) context.Request.Headers[Delegation.Header] = Convert.ToBase64String(Delegation.EndUserEntry(role, "someone", site).ValueBytes);
            var reached = false;
            await NetworkAuthentication.ApplyDelegation(context, _ => { reached = true; return Task.CompletedTask; }, Delegation.Portal);
            Assert.True(reached, "the request goes on (authorization decides)");
            return context;
        }

        var plain = await Apply(portal, null, null);
        Assert.Equal(portal, PeerIdentity.FromPrincipal(plain.User));
        Assert.Null(plain.Features.Get<DelegationRefusal>());

        var delegated = await Apply(portal, "clinician", "erlangen");
        Assert.Equal(new PeerIdentity("someone", "clinician", "erlangen") { Via = portal }, PeerIdentity.FromPrincipal(delegated.User));
        Assert.Null(delegated.Features.Get<DelegationRefusal>());

        var refused = await Apply(portal, "clinician", "munich");
        Assert.Contains("portal of site 'erlangen'", refused.Features.Get<DelegationRefusal>()?.Reason);
    }
}
