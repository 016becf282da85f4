using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Midia.Portal.Pages.Research;

[Authorize(Roles = "researcher")]
public sealed class IndexModel : PageModel
{
    public void OnGet() { }
}
