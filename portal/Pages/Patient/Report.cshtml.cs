using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Midia.Portal.Network;
using Midia.Portal.Text;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Grpc.Core;
using ReportReply = Midia.Protos.Coordinator.V1.PatientReportReply;

namespace Midia.Portal.Pages.Patient;

/// <summary>
/// The patient's transparency report, asked for only when the patient opens this page (every
/// report is itself a recorded access at every site): the home node asks every site through the
/// coordinator (PatientAccess.Report) — who looked at the record, and which research counted the
/// patient with the question, the released number and the published result.
/// </summary>
[Authorize(Roles = "patient")]
public sealed class ReportModel(PortalNetwork network, Words words) : PageModel
{
    public ReportReply? Report { get; private set; }
    public string? ReportProblem { get; private set; }

    public async Task OnGetAsync(CancellationToken cancel)
    {
        try
        {
            Report = await network.PatientAccess.ReportAsync(new PatientAccessReportRequest { Patient = IndexModel.Me(User) }, PortalNetwork.For(User, cancel)).ResponseAsync;
        }
        catch (RpcException e)
        {
            ReportProblem = PortalNetwork.Explain(e, words["your home site"]);
            Response.StatusCode = StatusCodes.Status502BadGateway;
        }
    }

    public string SiteStatus(SiteReport site) => site.Status switch
    {
        Midia.Protos.Coordinator.V1.SiteStatus.Ok => words["answered"],
        Midia.Protos.Coordinator.V1.SiteStatus.NotShared => words["has no record of you"],
        Midia.Protos.Coordinator.V1.SiteStatus.NotApproved => words["does not take part in reports yet"],
        _ => words["could not be asked just now"],
    };

    public static string When(string iso) => IndexModel.When(iso);
}
