using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Midia.Portal.Network;
using Midia.Portal.Text;
using Midia.Protos.Node.V1;
using Grpc.Core;

namespace Midia.Portal.Pages.Admin;

/// <summary>Query types of this site's node: pending requests to approve or deny, approvals to revoke.</summary>
[Authorize(Roles = "site-admin")]
public sealed class IndexModel(PortalNetwork network, Words words) : PageModel
{

    public QueryTypesReply? Types { get; private set; }
    public string? Problem { get; private set; }
    [TempData] public string? Done { get; set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        await Call(() => network.SiteAdmin.ListQueryTypesAsync(new(), PortalNetwork.For(User, cancellationToken)).ResponseAsync);

    public async Task<IActionResult> OnPostApproveAsync(string queryType, string? project, string? until, CancellationToken cancellationToken) =>
        await Decide(() => network.SiteAdmin.ApproveAsync(new() { QueryType = queryType ?? "", Project = project ?? "", Until = until ?? "" }, PortalNetwork.For(User, cancellationToken)).ResponseAsync,
            words.Format("Approved {0} for {1}.", queryType, Scope(project)));

    public async Task<IActionResult> OnPostDenyAsync(string queryType, string? project, CancellationToken cancellationToken) =>
        await Decide(() => network.SiteAdmin.DenyAsync(new() { QueryType = queryType ?? "", Project = project ?? "" }, PortalNetwork.For(User, cancellationToken)).ResponseAsync,
            words.Format("Denied {0} for {1}.", queryType, Scope(project)));

    public async Task<IActionResult> OnPostRevokeAsync(string queryType, string? project, CancellationToken cancellationToken) =>
        await Decide(() => network.SiteAdmin.RevokeAsync(new() { QueryType = queryType ?? "", Project = project ?? "" }, PortalNetwork.For(User, cancellationToken)).ResponseAsync,
            words.Format("Revoked {0} for {1}.", queryType, Scope(project)));

    public string Scope(string? project) => string.IsNullOrEmpty(project) ? words["every project"] : words.Format("project {0}", project);

    async Task<IActionResult> Decide(Func<Task<QueryTypesReply>> call, string done)
    {
        if (await Call(call))
        {
            Done = done;
            return RedirectToPage();   // post/redirect/get: a reload does not decide twice
        }
        Response.StatusCode = StatusCodes.Status400BadRequest;
        await OnGetAsync(HttpContext.RequestAborted);
        return Page();
    }

    async Task<bool> Call(Func<Task<QueryTypesReply>> call)
    {
        try
        {
            Types = await call();
            return true;
        }
        catch (RpcException e)
        {
            Problem ??= PortalNetwork.Explain(e, words["this site's node"]);
            return false;
        }
    }
}
