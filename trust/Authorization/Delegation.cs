using System.Text.Json;
using System.Text.Json.Serialization;
using Grpc.Core;

namespace Midia.Trust;

/// <summary>
/// A trusted front end (the web portal) acting for a person who signed in there. The front end
/// authenticates with its own certificate (role <see cref="DelegateRole"/>) and names the person
/// in the <see cref="Header"/> metadata; the server then treats the call as that person's, with
/// <see cref="PeerIdentity.Via"/> naming the front end. The metadata is honoured only from a
/// certificate with the delegate role — from any other caller it is refused, never ignored — and
/// a site-bound role only for the front end's own site.
/// </summary>
public sealed class Delegation
{
    /// <summary>UTF-8 JSON {"role","name","site"}; binary so that names outside ASCII survive HTTP/2.</summary>
    public const string Header = "midia-end-user-bin";

    public required string DelegateRole { get; init; }
    /// <summary>Roles a front end may claim for its user; nothing else (never a server role).</summary>
    public required IReadOnlySet<string> ClaimableRoles { get; init; }
    /// <summary>Roles that belong to one site: the front end may claim them only for its own site.</summary>
    public required IReadOnlySet<string> SiteBoundRoles { get; init; }

    /// <summary>The network's rule: portals act for researchers, and for clinicians, site admins and patients of their own site.</summary>
    public static readonly Delegation Portal = new()
    {
        DelegateRole = "portal",
        ClaimableRoles = new HashSet<string>(StringComparer.Ordinal) { "researcher", "clinician", "site-admin", "patient" },
        SiteBoundRoles = new HashSet<string>(StringComparer.Ordinal) { "clinician", "site-admin", "patient" },
    };

    /// <summary>The metadata a front end sends for its user.</summary>
    public static Metadata.Entry EndUserEntry(string role, string name, string? site) =>
        new(Header, JsonSerializer.SerializeToUtf8Bytes(new EndUserClaim(role, name, site ?? "")));

    /// <summary>
    /// Who the call is for: the end user a front end names in <paramref name="claim"/> (the
    /// metadata's bytes). Null with <paramref name="refusal"/> (a PERMISSION_DENIED message) when
    /// the claim is not allowed.
    /// </summary>
    public PeerIdentity? Resolve(PeerIdentity certificate, ReadOnlySpan<byte> claim, out string? refusal)
    {
        refusal = null;
        if (!string.Equals(certificate.Role, DelegateRole, StringComparison.Ordinal))
        {
            refusal = $"end-user metadata ({Header}) is honoured only from a {DelegateRole} certificate; caller has role {(certificate.Role.Length == 0 ? "none" : certificate.Role)}";
            return null;
        }
        EndUserClaim? user;
        try { user = JsonSerializer.Deserialize<EndUserClaim>(claim); }
        catch (JsonException) { user = null; }
        if (user is null || string.IsNullOrWhiteSpace(user.Role) || string.IsNullOrWhiteSpace(user.Name))
        {
            refusal = $"{Header} must be JSON with a role and a name";
            return null;
        }
        if (!ClaimableRoles.Contains(user.Role))
        {
            refusal = $"{certificate.Name} may not act for role {user.Role}; it may act for {string.Join(", ", ClaimableRoles.Order())}";
            return null;
        }
        var site = string.IsNullOrEmpty(user.Site) ? null : user.Site;
        if (SiteBoundRoles.Contains(user.Role) && (site is null || site != certificate.Site))
        {
            refusal = certificate.Site is null
                ? $"{certificate.Name} names no site in its certificate, so it may not act for a {user.Role}"
                : $"{certificate.Name} is the portal of site '{certificate.Site}'; it may act for a {user.Role} of that site only, not of '{site ?? "(none)"}'";
            return null;
        }
        if (site is not null && site != certificate.Site)
        {
            refusal = $"{certificate.Name} may name only its own site '{certificate.Site}' for its users, not '{site}'";
            return null;
        }
        return new PeerIdentity(user.Name, user.Role, site) { Via = certificate };
    }

    sealed record EndUserClaim(
        [property: JsonPropertyName("role")] string Role,
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("site")] string? Site);
}
