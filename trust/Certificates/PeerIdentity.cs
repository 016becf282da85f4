using System.Formats.Asn1;
using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;

namespace Midia.Trust;

/// <summary>
/// Who is on the other end of a mutual-TLS connection, read from their certificate:
/// Name = subject CN, Role = subject OU, Site = the SAN URI <c>urn:midia:site:&lt;id&gt;</c> (if any).
/// </summary>
public sealed record PeerIdentity(string Name, string Role, string? Site)
{
    public const string SiteUriPrefix = "urn:midia:site:";

    /// <summary>The front end (portal) that acts for this person, when the call was delegated; null for a direct caller.</summary>
    public PeerIdentity? Via { get; init; }

    /// <summary>Who the audit names: the person, and the portal they came through.</summary>
    public string AuditName => Via is null ? Name : $"{Name} via {Via.Name}";

    public static PeerIdentity FromCertificate(X509Certificate2 certificate)
    {
        string name = "", role = "";
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            var oid = rdn.GetSingleElementType().Value;
            var value = rdn.GetSingleElementValue() ?? "";
            if (oid == "2.5.4.3" && name == "") name = value;        // CN
            else if (oid == "2.5.4.11" && role == "") role = value;  // OU
        }
        var site = SubjectUris(certificate).FirstOrDefault(u => u.StartsWith(SiteUriPrefix, StringComparison.Ordinal))?[SiteUriPrefix.Length..];
        return new PeerIdentity(name, role, string.IsNullOrEmpty(site) ? null : site);
    }

    /// <summary>The claim that carries the site (name and role are the standard name and role claims).</summary>
    public const string SiteClaim = "urn:midia:site";

    /// <summary>This identity as the principal of an ASP.NET request; a delegated one carries its portal as the actor.</summary>
    public ClaimsPrincipal ToPrincipal(string authenticationType)
    {
        return new ClaimsPrincipal(Identity(this, authenticationType));

        static ClaimsIdentity Identity(PeerIdentity peer, string authenticationType)
        {
            var claims = new List<Claim> { new(ClaimTypes.Name, peer.Name), new(ClaimTypes.Role, peer.Role) };
            if (peer.Site is not null) claims.Add(new Claim(SiteClaim, peer.Site));
            return new ClaimsIdentity(claims, authenticationType) { Actor = peer.Via is null ? null : Identity(peer.Via, authenticationType) };
        }
    }

    /// <summary>Who a principal made by <see cref="ToPrincipal"/> is; null for an unauthenticated one.</summary>
    public static PeerIdentity? FromPrincipal(ClaimsPrincipal principal) =>
        principal.Identity is ClaimsIdentity { IsAuthenticated: true } identity ? FromIdentity(identity) : null;

    static PeerIdentity FromIdentity(ClaimsIdentity identity) =>
        new(identity.FindFirst(ClaimTypes.Name)?.Value ?? "", identity.FindFirst(ClaimTypes.Role)?.Value ?? "", identity.FindFirst(SiteClaim)?.Value)
        {
            Via = identity.Actor is { } actor ? FromIdentity(actor) : null,
        };

    public override string ToString() => (Site is null ? $"{Name} ({Role})" : $"{Name} ({Role}, site {Site})") + (Via is null ? "" : $" via {Via.Name}");

    /// <summary>URI entries of the subject alternative name ([6] IA5String in GeneralNames).</summary>
    static IEnumerable<string> SubjectUris(X509Certificate2 certificate)
    {
        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        if (san is null) yield break;
        var names = new AsnReader(san.RawData, AsnEncodingRules.DER).ReadSequence();
        var uriTag = new Asn1Tag(TagClass.ContextSpecific, 6);
        while (names.HasData)
        {
            var tag = names.PeekTag();
            if (tag.HasSameClassAndValue(uriTag)) yield return names.ReadCharacterString(UniversalTagNumber.IA5String, uriTag);
            else names.ReadEncodedValue();
        }
    }
}
