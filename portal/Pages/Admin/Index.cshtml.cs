using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Midia.Portal.Network;
using Midia.Portal.Text;
using Midia.Protos.Node.V1;
using Midia.Rpc.Core;

namespace Midia.Portal.Pages.Admin;

/// <summary>Query types of this site's node: pending requests to approve or deny, approvals to revoke.</summary>
[Authorize(Roles = "site-admin")]
public sealed class IndexModel(PortalNetwork network, Words words) : PageModel
{
    public static readonly Google.Protobuf.Reflection.ServiceDescriptor SiteAdmin = SiteAdminReflection.Descriptor.Services.Single(s => s.Name == "SiteAdmin");

    public QueryTypesReply? Types { get; private set; }
    public string? Problem { get; private set; }
    [TempData] public string? Done { get; set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        await Call(() => network.NodeAsync<ListQueryTypesRequest, QueryTypesReply>(SiteAdmin, "ListQueryTypes", new(), User, cancellationToken));

    public async Task<IActionResult> OnPostApproveAsync(string queryType, string? project, string? until, CancellationToken cancellationToken) =>
        await Decide(() => network.NodeAsync<ApproveRequest, QueryTypesReply>(SiteAdmin, "Approve", new() { QueryType = queryType ?? "", Project = project ?? "", Until = until ?? "" }, User, cancellationToken),
            words.Format("Approved {0} for {1}.", queryType, Scope(project)));

    public async Task<IActionResult> OnPostDenyAsync(string queryType, string? project, CancellationToken cancellationToken) =>
        await Decide(() => network.NodeAsync<DecideRequest, QueryTypesReply>(SiteAdmin, "Deny", new() { QueryType = queryType ?? "", Project = project ?? "" }, User, cancellationToken),
            words.Format("Denied {0} for {1}.", queryType, Scope(project)));

    public async Task<IActionResult> OnPostRevokeAsync(string queryType, string? project, CancellationToken cancellationToken) =>
        await Decide(() => network.NodeAsync<DecideRequest, QueryTypesReply>(SiteAdmin, "Revoke", new() { QueryType = queryType ?? "", Project = project ?? "" }, User, cancellationToken),
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
