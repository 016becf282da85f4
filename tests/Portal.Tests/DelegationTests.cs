using Midia.Node.Audit;
using Midia.Node.Store;
using Midia.Portal.Tests.Support;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Midia.Rpc.Authorization;
using Midia.Rpc.Client;
using Midia.Rpc.Core;
using Midia.Rpc.Tls;

namespace Midia.Portal.Tests;

/// <summary>
/// End-user metadata over real mutual TLS: honoured only from a portal certificate, and for
/// site-bound roles only for the portal's own site; the audit names person and portal.
/// </summary>
public sealed class DelegationTests : IAsyncLifetime
{
    readonly PortalTestNetwork network = new("erlangen", "munich");
    static readonly Google.Protobuf.Reflection.ServiceDescriptor Research = CoordinatorReflection.Descriptor.Services.Single(s => s.Name == "Research");
    static readonly Method<ResolvePatientRequest, ResolvePatientReply> Resolve = Method<ResolvePatientRequest, ResolvePatientReply>.From(Midia.Node.Care.PatientCare.Descriptor, "ResolvePatient");
    static readonly Method<QuotaRequest, QuotaReply> Quota = Method<QuotaRequest, QuotaReply>.From(Research, "Quota");

    public async Task InitializeAsync() => await network.StartAsync();
    public async Task DisposeAsync() => await network.DisposeAsync();

    static CallOptions As(string role, string name, string? site) =>
        new(Headers: [Delegation.EndUserEntry(role, name, site)], Deadline: DateTime.UtcNow.AddSeconds(60));

    static async Task<RpcException> Refused<T>(Task<T> call) => await Assert.ThrowsAsync<RpcException>(() => call);

    [Fact]
    public async Task A_certificate_without_the_portal_role_cannot_use_end_user_metadata()
    {
        // A researcher tries to pass as a clinician of erlangen; a node as a researcher.
        var researcher = network.Client(network.Material("researcher", "Dr Sneaky"), "erlangen");
        var e = await Refused(researcher.AsyncUnaryCall(Resolve, As("clinician", "Dr Sneaky", "erlangen"), new ResolvePatientRequest { LocalId = "p1" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("only from a portal certificate", e.Status.Detail);

        var node = network.Client(network.Material("node", "node-munich", "munich"));
        e = await Refused(node.AsyncUnaryCall(Quota, As("researcher", "Dr Node", null), new QuotaRequest()).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("caller has role node", e.Status.Detail);
    }

    [Fact]
    public async Task A_portal_cannot_claim_a_role_of_another_site_nor_a_server_role()
    {
        var portal = network.Client(network.Material("portal", "portal-munich", "munich"), "erlangen");
        var e = await Refused(portal.AsyncUnaryCall(Resolve, As("clinician", "Dr M", "erlangen"), new ResolvePatientRequest { LocalId = "p1" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("portal of site 'munich'", e.Status.Detail);

        e = await Refused(portal.AsyncUnaryCall(Resolve, As("coordinator", "me", null), new ResolvePatientRequest { LocalId = "p1" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("may not act for role coordinator", e.Status.Detail);

        // Its own site's clinician is its own business, but munich's node is not erlangen's.
        e = await Refused(portal.AsyncUnaryCall(Resolve, As("clinician", "Dr M", "munich"), new ResolvePatientRequest { LocalId = "p1" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("this node is site 'erlangen'", e.Status.Detail);
    }

    [Fact]
    public async Task Without_metadata_a_portal_is_only_a_portal()
    {
        var portal = network.Client(network.Material("portal", "portal-erlangen", "erlangen"));
        var e = await Refused(portal.AsyncUnaryCall(Quota, new CallOptions(Deadline: DateTime.UtcNow.AddSeconds(60)), new QuotaRequest()).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("caller has role portal", e.Status.Detail);
    }

    [Fact]
    public async Task The_portal_acts_with_the_end_users_role_and_the_audit_names_both()
    {
        var portal = network.Client(network.Material("portal", "portal-erlangen", "erlangen"));
        var quota = await portal.AsyncUnaryCall(Quota, As("researcher", "ada", null), new QuotaRequest()).ResponseAsync;
        Assert.NotEmpty(quota.Windows);

        // A delegated clinician of erlangen reaches erlangen's node as a clinician: the answer is
        // about the patient (none such), not about the role, and the audit names person and portal.
        network["erlangen"].ApproveExact("patient-summary");
        var node = network.Client(network.Material("portal", "portal-erlangen", "erlangen"), "erlangen");
        var e = await Refused(node.AsyncUnaryCall(Resolve, As("clinician", "Dr Ada Clin", "erlangen"), new ResolvePatientRequest { LocalId = "p1" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        using var connection = SiteDatabase.Open(network["erlangen"].DbPath);
        var entry = new AuditLog(connection).Read().Last();
        Assert.Equal(("Dr Ada Clin via portal-erlangen", "clinician"), (entry.UserName, entry.UserRole));
    }

    [Fact]
    public void Resolve_rules_in_one_table()
    {
        var portal = new PeerIdentity("portal-erlangen", "portal", "erlangen");
        Metadata Claim(string role, string? site) => [Delegation.EndUserEntry(role, "someone", site)];
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
        Assert.Same(portal, Delegation.Portal.Resolve(portal, [], out _));
    }
}
