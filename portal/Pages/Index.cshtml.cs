using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Midia.Portal.SignIn;

namespace Midia.Portal.Pages;

/// <summary>The start: each role's own view, or the sign-in.</summary>
[AllowAnonymous]
public sealed class IndexModel : PageModel
{
    public IActionResult OnGet() =>
        LocalRedirect(User.Identity?.IsAuthenticated == true ? PortalUser.Home(User.Role()) : "/SignIn");
}
