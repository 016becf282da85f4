using System.Security.Claims;
using Midia.CertsDev;

namespace Midia.Trust.Tests;

/// <summary>Who a certificate names, and the same identity as the principal of an ASP.NET request and back.</summary>
public sealed class PeerIdentityTests
{
    [Fact]
    public void ReadsNameRoleAndSiteFromTheCertificate()
    {
        using var ca = DevCertificates.CreateAuthority();
        using var node = DevCertificates.Issue(ca, "node", "node-erlangen", "erlangen");
        Assert.Equal(new PeerIdentity("node-erlangen", "node", "erlangen"), PeerIdentity.FromCertificate(node));
        using var researcher = DevCertificates.Issue(ca, "researcher", "Dr Ada Lovelace");
        Assert.Equal(new PeerIdentity("Dr Ada Lovelace", "researcher", null), PeerIdentity.FromCertificate(researcher));
    }

    public static TheoryData<PeerIdentity> Identities => new()
    {
        new PeerIdentity("Dr Ada Lovelace", "researcher", null),
        new PeerIdentity("node-erlangen", "node", "erlangen"),
        new PeerIdentity("Grete Müller", "patient", "erlangen") { Via = new PeerIdentity("portal-erlangen", "portal", "erlangen") },
        new PeerIdentity("Dr Ada Lovelace", "researcher", null) { Via = new PeerIdentity("portal-munich", "portal", "munich") },
    };

    [Theory, MemberData(nameof(Identities))]
    public void ThePrincipalOfAnIdentityIsThatIdentityAgainIncludingThePortalItCameThrough(PeerIdentity identity)
    {
        var principal = identity.ToPrincipal("Certificate");
        var back = PeerIdentity.FromPrincipal(principal);
        Assert.Equal(identity, back);
        Assert.Equal(identity.Via, back!.Via);
        Assert.Equal(identity.Name, principal.Identity!.Name);
        Assert.True(principal.IsInRole(identity.Role));
        Assert.Equal(identity.Via?.Name, (principal.Identity as ClaimsIdentity)!.Actor?.Name);
    }

    [Fact]
    public void AnUnauthenticatedPrincipalIsNoOne()
    {
        Assert.Null(PeerIdentity.FromPrincipal(new ClaimsPrincipal()));
        Assert.Null(PeerIdentity.FromPrincipal(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "x"), new Claim(ClaimTypes.Role, "coordinator")]))));
    }

    [Fact]
    public void TheAuditNamesThePersonAndThePortal()
    {
        var direct = new PeerIdentity("Dr Ada Lovelace", "researcher", null);
        var delegated = direct with { Via = new PeerIdentity("portal-munich", "portal", "munich") };
        Assert.Equal("Dr Ada Lovelace", direct.AuditName);
        Assert.Equal("Dr Ada Lovelace via portal-munich", delegated.AuditName);
        Assert.Equal("Dr Ada Lovelace (researcher) via portal-munich", delegated.ToString());
    }
}
