using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Midia.Portal.Accounts;
using Midia.Portal.Serve;
using Midia.Portal.SignIn;
using Midia.Portal.Text;
using Midia.Hosting;
using Midia.Trust;

namespace Midia.Portal.Pages;

/// <summary>
/// Sign-in by the browser's client certificate (network CA, role and site from the certificate,
/// as the health-professional card would give them) or by a local account. A real deployment
/// adds the national health ID here: an OpenID Connect handler (AddOpenIdConnect) whose claims
/// become the same PortalUser (see portal/README.md).
/// </summary>
[AllowAnonymous]
public sealed class SignInModel(AccountStore accounts, PortalSettings portal, Words words) : PageModel
{
    /// <summary>Roles that may sign in with a certificate; patients use accounts (or the health ID).</summary>
    static readonly string[] CertificateRoles = ["researcher", "clinician", "site-admin"];

    public string? Problem { get; private set; }
    [BindProperty(SupportsGet = true)] public string? ReturnUrl { get; set; }
    [BindProperty] public new string? User { get; set; }
    [BindProperty] public string? Password { get; set; }

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync()
    {
        Account? account;
        try { account = string.IsNullOrEmpty(User) || string.IsNullOrEmpty(Password) ? null : accounts.SignIn(User, Password); }
        catch (CommandException) { return Refuse(words["Sign-in by account is not available right now."]); }
        if (account is null) return Refuse(words["User name or password is wrong."]);
        if (account.Site is not null && account.Site != portal.Site)
            return Refuse(words.Format("This account belongs to site {0}; sign in at that site's portal.", account.Site));
        return await SignInAsync(PortalUser.Create(account.User, account.Name, account.Role, account.Site, account.Kvnr, PortalUser.ByPassword), account.Role);
    }

    public async Task<IActionResult> OnPostCertificateAsync()
    {
        var certificate = await HttpContext.Connection.GetClientCertificateAsync();
        if (certificate is null) return Refuse(words["Your browser presented no certificate."]);
        if (!portal.Tls.ValidatePeer(certificate, PeerKind.Client, null, out var problem))
            return Refuse(words.Format("Your certificate is not accepted: {0}", problem));
        var identity = PeerIdentity.FromCertificate(certificate);
        if (!CertificateRoles.Contains(identity.Role))
            return Refuse(words.Format("A {0} certificate cannot sign in to the portal.", identity.Role));
        if (identity.Role != "researcher" && identity.Site != portal.Site)
            return Refuse(words.Format("Your certificate is for site {0}; sign in at that site's portal.", identity.Site ?? "-"));
        return await SignInAsync(PortalUser.Create(identity.Name, identity.Name, identity.Role, identity.Role == "researcher" ? null : identity.Site, null, PortalUser.ByCertificate), identity.Role);
    }

    async Task<IActionResult> SignInAsync(System.Security.Claims.ClaimsPrincipal principal, string role)
    {
        await HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, principal);
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : PortalUser.Home(role));
    }

    PageResult Refuse(string problem)
    {
        Problem = problem;
        Password = null;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        return Page();
    }
}
