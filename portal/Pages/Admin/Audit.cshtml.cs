using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Midia.Portal.Network;
using Midia.Portal.Text;
using Midia.Protos.Node.V1;
using Grpc.Core;

namespace Midia.Portal.Pages.Admin;

/// <summary>The node's append-only audit log, newest first, with filters (a GET form: filters are bookmarkable).</summary>
[Authorize(Roles = "site-admin")]
public sealed class AuditModel(PortalNetwork network, Words words) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? Since { get; set; }
    [BindProperty(SupportsGet = true)] public string? Until { get; set; }
    [BindProperty(SupportsGet = true)] public string? Outcome { get; set; }
    [BindProperty(SupportsGet = true)] public string? QueryType { get; set; }
    [BindProperty(SupportsGet = true), FromQuery(Name = "user")] public string? UserName { get; set; }

    public AuditReply? Entries { get; private set; }
    public string? Problem { get; private set; }
    public static readonly string[] QueryTypes = ["cohort-count", "stratified-count", "patient-summary", "patient-report"];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        try
        {
            Entries = await network.SiteAdmin.AuditAsync(new AuditRequest
            {
                Since = Since ?? "", Until = Until ?? "", Outcome = Outcome ?? "", QueryType = QueryType ?? "", User = UserName ?? "",
            }, PortalNetwork.For(User, cancellationToken)).ResponseAsync;
        }
        catch (RpcException e)
        {
            Problem = PortalNetwork.Explain(e, words["this site's node"]);
            if (e.StatusCode == Grpc.Core.StatusCode.InvalidArgument) Response.StatusCode = StatusCodes.Status400BadRequest;
        }
    }
}
