using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Midia.Portal.SignIn;

/// <summary>
/// The signed-in person as the cookie carries it: user (what the network sees as the end user's
/// name), display name, role, site, and for a patient the KVNR. The cookie is encrypted and
/// signed by ASP.NET Core data protection.
/// </summary>
public static class PortalUser
{
    public const string UserClaim = "midia:user", SiteClaim = "midia:site", KvnrClaim = "midia:kvnr", MethodClaim = "midia:method";
    public const string ByPassword = "password", ByCertificate = "certificate";

    public static ClaimsPrincipal Create(string user, string displayName, string role, string? site, string? kvnr, string method)
    {
        var claims = new List<Claim>
        {
            new(UserClaim, user), new(ClaimTypes.Name, displayName), new(ClaimTypes.Role, role), new(MethodClaim, method),
        };
        if (site is not null) claims.Add(new Claim(SiteClaim, site));
        if (kvnr is not null) claims.Add(new Claim(KvnrClaim, kvnr));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, CookieAuthenticationDefaults.AuthenticationScheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    public static string User(this ClaimsPrincipal p) => p.FindFirstValue(UserClaim) ?? throw new InvalidOperationException("not signed in");
    public static string DisplayName(this ClaimsPrincipal p) => p.FindFirstValue(ClaimTypes.Name) ?? "";
    public static string Role(this ClaimsPrincipal p) => p.FindFirstValue(ClaimTypes.Role) ?? "";
    public static string? Site(this ClaimsPrincipal p) => p.FindFirstValue(SiteClaim);
    public static string? Kvnr(this ClaimsPrincipal p) => p.FindFirstValue(KvnrClaim);
    public static string? Method(this ClaimsPrincipal p) => p.FindFirstValue(MethodClaim);

    /// <summary>Where each role starts.</summary>
    public static string Home(string role) => role switch
    {
        "researcher" => "/Research",
        "site-admin" => "/Admin",
        "clinician" => "/Care",
        "patient" => "/Patient",
        _ => "/",
    };
}
