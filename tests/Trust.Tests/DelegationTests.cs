using System.Text;

namespace Midia.Trust.Tests;

/// <summary>The portal's rule (Delegation.Portal): whom a front end may act for, and why not otherwise.</summary>
public sealed class DelegationTests
{
    static readonly PeerIdentity Portal = new("portal-erlangen", "portal", "erlangen");

    static PeerIdentity? Resolve(PeerIdentity certificate, string json, out string? refusal) =>
        Delegation.Portal.Resolve(certificate, Encoding.UTF8.GetBytes(json), out refusal);

    static PeerIdentity? Resolve(PeerIdentity certificate, (string Role, string Name, string? Site) user, out string? refusal) =>
        Delegation.Portal.Resolve(certificate, Delegation.EndUserEntry(user.Role, user.Name, user.Site).ValueBytes, out refusal);

    [Fact]
    public void APortalActsForAResearcherWhoseCallItBecomes()
    {
        var person = Resolve(Portal, ("researcher", "Dr Ada Lovelace", null), out var refusal);
        Assert.Null(refusal);
        Assert.Equal(new PeerIdentity("Dr Ada Lovelace", "researcher", null) { Via = Portal }, person);
        Assert.Equal(Portal, person!.Via);
    }

    [Theory]
    [InlineData("clinician")]
    [InlineData("site-admin")]
    [InlineData("patient")]
    public void APortalActsForSiteBoundRolesOfItsOwnSiteOnly(string role)
    {
        var own = Resolve(Portal, (role, "Someone", "erlangen"), out var none);
        Assert.Null(none);
        Assert.Equal(new PeerIdentity("Someone", role, "erlangen") { Via = Portal }, own);

        Assert.Null(Resolve(Portal, (role, "Someone", "munich"), out var other));
        Assert.Equal($"portal-erlangen is the portal of site 'erlangen'; it may act for a {role} of that site only, not of 'munich'", other);
        Assert.Null(Resolve(Portal, (role, "Someone", null), out var nowhere));
        Assert.Equal($"portal-erlangen is the portal of site 'erlangen'; it may act for a {role} of that site only, not of '(none)'", nowhere);
    }

    [Fact]
    public void APortalWithoutASiteActsForNoSiteBoundRole()
    {
        var siteless = new PeerIdentity("portal-central", "portal", null);
        Assert.Null(Resolve(siteless, ("clinician", "Dr C", "erlangen"), out var refusal));
        Assert.Equal("portal-central names no site in its certificate, so it may not act for a clinician", refusal);
    }

    [Fact]
    public void AResearcherMayBeNamedOnlyWithThePortalsOwnSite()
    {
        Assert.Null(Resolve(Portal, ("researcher", "Dr R", "munich"), out var refusal));
        Assert.Equal("portal-erlangen may name only its own site 'erlangen' for its users, not 'munich'", refusal);
        Assert.NotNull(Resolve(Portal, ("researcher", "Dr R", "erlangen"), out _));
    }

    [Theory]
    [InlineData("node")]
    [InlineData("coordinator")]
    [InlineData("portal")]
    public void APortalNeverActsForAServerRole(string role)
    {
        Assert.Null(Resolve(Portal, (role, "impostor", "erlangen"), out var refusal));
        Assert.Equal($"portal-erlangen may not act for role {role}; it may act for clinician, patient, researcher, site-admin", refusal);
    }

    [Theory]
    [InlineData("researcher")]
    [InlineData("coordinator")]
    [InlineData("")]
    public void OnlyAPortalCertificateMayNameAnEndUser(string role)
    {
        Assert.Null(Resolve(new PeerIdentity("someone", role, "erlangen"), ("clinician", "Dr C", "erlangen"), out var refusal));
        Assert.Equal($"end-user metadata (midia-end-user-bin) is honoured only from a portal certificate; caller has role {(role.Length == 0 ? "none" : role)}", refusal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{}")]
    [InlineData("""{"role":"researcher"}""")]
    [InlineData("""{"role":"","name":"x"}""")]
    [InlineData("""{"role":"researcher","name":"   "}""")]
    [InlineData("null")]
    public void AClaimWithoutARoleAndANameIsRefused(string json)
    {
        Assert.Null(Resolve(Portal, json, out var refusal));
        Assert.Equal("midia-end-user-bin must be JSON with a role and a name", refusal);
    }

    [Fact]
    public void TheEndUserEntryIsBinaryMetadataSoNamesOutsideAsciiSurvive()
    {
        var entry = Delegation.EndUserEntry("patient", "Grete Müller 😀", "erlangen");
        Assert.Equal(Delegation.Header, entry.Key);
        Assert.True(entry.IsBinary);
        Assert.Equal("Grete Müller 😀", Resolve(Portal, Encoding.UTF8.GetString(entry.ValueBytes), out _)!.Name);
    }
}
