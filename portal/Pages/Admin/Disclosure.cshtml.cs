using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Midia.Portal.Network;
using Midia.Portal.Text;
using Midia.Protos.Node.V1;
using Grpc.Core;

namespace Midia.Portal.Pages.Admin;

/// <summary>Disclosure control per query type: noise (epsilon), rounding, threshold, or exact counts.</summary>
[Authorize(Roles = "site-admin")]
public sealed class DisclosureModel(PortalNetwork network, Words words) : PageModel
{
    public DisclosureReply? Rules { get; private set; }
    public string? Problem { get; private set; }
    [TempData] public string? Done { get; set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        try { Rules = await network.SiteAdmin.ListDisclosureAsync(new(), PortalNetwork.For(User, cancellationToken)).ResponseAsync; }
        catch (RpcException e) { Problem = PortalNetwork.Explain(e, words["this site's node"]); }
    }

    public async Task<IActionResult> OnPostAsync(string queryType, string? epsilon, int? round, int? threshold, bool exact, CancellationToken cancellationToken)
    {
        var request = new SetDisclosureRequest { QueryType = queryType ?? "", Exact = exact };
        if (!string.IsNullOrWhiteSpace(epsilon)) request.Epsilon = epsilon.Trim().Replace(',', '.');
        if (round is not null) request.Round = round.Value;
        if (threshold is not null) request.Threshold = threshold.Value;
        try
        {
            var reply = await network.SiteAdmin.SetDisclosureAsync(request, PortalNetwork.For(User, cancellationToken)).ResponseAsync;
            Done = words.Format("Saved for {0}: {1}", queryType, reply.Rules.FirstOrDefault(r => r.QueryType == queryType)?.Treatment);
            return RedirectToPage();
        }
        catch (RpcException e)
        {
            Problem = PortalNetwork.Explain(e, words["this site's node"]);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            var problem = Problem;
            await OnGetAsync(cancellationToken);
            Problem = problem;
            return Page();
        }
    }
}
