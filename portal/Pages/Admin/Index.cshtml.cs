using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Midia.Portal.Pages.Admin;

[Authorize(Roles = "site-admin")]
public sealed class IndexModel : PageModel
{
    public void OnGet() { }
}
