using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Midia.Portal.Network;
using Midia.Portal.SignIn;
using Midia.Portal.Text;
using Midia.Protos.Coordinator.V1;
using Grpc.Core;

namespace Midia.Portal.Pages.Research;

/// <summary>The coordinator's project registry: register a project before counting for it, publish its outcome later.</summary>
[Authorize(Roles = "researcher")]
public sealed class ProjectsModel(PortalNetwork network, Words words) : PageModel
{

    public ListProjectsReply? List { get; private set; }
    public string? Problem { get; private set; }
    [TempData] public string? Done { get; set; }
    public string Me => User.User();

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        try { List = await network.Projects.ListAsync(new(), PortalNetwork.For(User, cancellationToken)).ResponseAsync; }
        catch (RpcException e) { Problem ??= PortalNetwork.Explain(e, words["the coordinator"]); }
    }

    public Task<IActionResult> OnPostRegisterAsync(string? id, string? title, string? question, string? institution, CancellationToken cancellationToken) =>
        Change(() => network.Projects.RegisterAsync(
            new() { Id = id?.Trim() ?? "", Title = title?.Trim() ?? "", Question = question?.Trim() ?? "", Institution = institution?.Trim() ?? "" }, PortalNetwork.For(User, cancellationToken)).ResponseAsync,
            p => words.Format("Project {0} is registered; counts may name it now.", p.Id), cancellationToken);

    public Task<IActionResult> OnPostPublishAsync(string? id, string? result, CancellationToken cancellationToken) =>
        Change(() => network.Projects.PublishAsync(new() { Id = id ?? "", Result = result?.Trim() ?? "" }, PortalNetwork.For(User, cancellationToken)).ResponseAsync,
            p => words.Format("The result of {0} is published: patients whose data it used see it in their report.", p.Id), cancellationToken);

    async Task<IActionResult> Change(Func<Task<Project>> call, Func<Project, string> done, CancellationToken cancellationToken)
    {
        try
        {
            Done = done(await call());
            return RedirectToPage();
        }
        catch (RpcException e)
        {
            Problem = PortalNetwork.Explain(e, words["the coordinator"]);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            await OnGetAsync(cancellationToken);
            return Page();
        }
    }
}
