using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Midia.Portal.Network;
using Midia.Portal.Research;
using Midia.Portal.Text;
using Midia.Protos.Coordinator.V1;
using Grpc.Core;

namespace Midia.Portal.Pages.Research;

/// <summary>
/// The cohort builder: CCDL from the builder (or typed), counted by the coordinator across every
/// site. With JavaScript each site's result streams in as it arrives (server-sent events from
/// the Stream handler); without, the Run handler shows the whole answer at once.
/// </summary>
[Authorize(Roles = "researcher")]
public sealed class IndexModel(PortalNetwork network, Words words) : PageModel
{
    public static readonly string[] Strata = ["sex", "age-band", "year"];

    [BindProperty] public string Ccdl { get; set; } = CodeCatalogue.Example;
    [BindProperty] public string? Project { get; set; }
    [BindProperty] public List<string> StratifyBy { get; set; } = [];

    public List<CountEvent>? Events { get; private set; }
    public string? Problem { get; private set; }

    public void OnGet() { }

    public async Task<IActionResult> OnPostRunAsync(CancellationToken cancellationToken)
    {
        if (Validate() is { } problem) return Refuse(problem);
        Events = [];
        try
        {
            await foreach (var e in network.CountAsync(BuildRequest(), User, cancellationToken)) Events.Add(e);
        }
        catch (RpcException e) { return Refuse(PortalNetwork.Explain(e, words["the coordinator"])); }
        return Page();
    }

    /// <summary>Server-sent events: one `data:` line per coordinator event, flushed at once; a failure is an `error` event.</summary>
    public async Task<IActionResult> OnPostStreamAsync(CancellationToken cancellationToken)
    {
        Response.Headers.CacheControl = "no-store";
        if (Validate() is { } problem)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            await Response.WriteAsJsonAsync(new { error = problem }, cancellationToken);
            return new EmptyResult();
        }
        Response.ContentType = "text/event-stream";
        await Response.Body.FlushAsync(cancellationToken);
        try
        {
            await foreach (var e in network.CountAsync(BuildRequest(), User, cancellationToken))
            {
                await Response.WriteAsync(CountEvents.Sse(e), cancellationToken);
                await Response.Body.FlushAsync(cancellationToken);
            }
        }
        catch (RpcException e)
        {
            await Response.WriteAsync("event: failure\ndata: " + JsonSerializer.Serialize(new { error = PortalNetwork.Explain(e, words["the coordinator"]) }) + "\n\n", cancellationToken);
        }
        // The response is the event stream: no page after it.
        return new EmptyResult();
    }

    CountRequest BuildRequest() => new() { CcdlJson = Ccdl, Project = Project?.Trim() ?? "", StratifyBy = { StratifyBy.Where(Strata.Contains) } };

    string? Validate()
    {
        if (string.IsNullOrWhiteSpace(Ccdl)) return words["The query is empty: add a criterion."];
        try { using var _ = JsonDocument.Parse(Ccdl); }
        catch (JsonException e) { return words.Format("The query is not valid JSON: {0}", e.Message); }
        return null;
    }

    PageResult Refuse(string problem)
    {
        Problem = problem;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
