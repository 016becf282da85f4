using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Midia.Care;
using Midia.Portal.Network;
using Midia.Portal.SignIn;
using Midia.Portal.Text;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Grpc.Core;
using RpcCode = Grpc.Core.StatusCode;

namespace Midia.Portal.Pages.Care;

/// <summary>
/// The physician view: find a patient of one's own site by local id or KVNR, see the cross-site
/// summary — per-site status in plain words, one timeline, trend charts — and download it as a
/// FHIR IPS document. The identifier goes only to the clinician's own node (PatientCare.
/// ResolvePatient), which hands back a sealed ticket; the coordinator sees the ticket alone.
/// Nothing is kept after the response: the ticket rides in the page for the IPS download.
/// </summary>
[Authorize(Roles = "clinician")]
public sealed class IndexModel(PortalNetwork network, Words words) : PageModel
{

    /// <summary>The series a clinician follows most (DOMAIN.md): PSA, CA 15-3, EDSS, by LOINC code.</summary>
    public static readonly IReadOnlyDictionary<string, string> FollowedSeries = new Dictionary<string, string>
    {
        ["2857-1"] = "PSA", ["6875-9"] = "CA 15-3",
    };

    [BindProperty] public string? Patient { get; set; }
    [BindProperty] public string? Ticket { get; set; }

    public string? Problem { get; private set; }
    public SummaryReply? Summary { get; private set; }
    public IReadOnlyList<Trend> Trends { get; private set; } = [];

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancel)
    {
        var query = (Patient ?? "").Trim();
        if (query.Length == 0)
        {
            Problem = words["Enter the patient's local id or KVNR."];
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        // A KVNR is one letter and nine digits; anything else is this site's own patient id.
        var request = IsKvnr(query) ? new ResolvePatientRequest { Kvnr = query.ToUpperInvariant() } : new ResolvePatientRequest { LocalId = query };
        try
        {
            var resolved = await network.PatientCare.ResolvePatientAsync(request, PortalNetwork.For(User, cancel)).ResponseAsync;
            Ticket = resolved.Ticket;
        }
        catch (RpcException e)
        {
            return Fail(e, words["your site's node"]);
        }
        return await ShowAsync(cancel);
    }

    /// <summary>The IPS document of the patient just shown, from a fresh summary (the access is recorded again).</summary>
    public async Task<IActionResult> OnPostIpsAsync(CancellationToken cancel)
    {
        if (string.IsNullOrEmpty(Ticket)) return RedirectToPage();
        try
        {
            var reply = await SummaryAsync(cancel);
            var bundle = IpsBundle.Build(reply, DateTimeOffset.UtcNow);
            var bytes = JsonSerializer.SerializeToUtf8Bytes(bundle, new JsonSerializerOptions { WriteIndented = true });
            return File(bytes, "application/fhir+json", $"ips-{reply.RequestId}.json");
        }
        catch (RpcException e)
        {
            return Fail(e, words["the coordinator"]);
        }
    }

    async Task<IActionResult> ShowAsync(CancellationToken cancel)
    {
        try
        {
            Summary = await SummaryAsync(cancel);
        }
        catch (RpcException e)
        {
            return Fail(e, words["the coordinator"]);
        }
        Trends = Trend.Of(Summary.Entries);
        return Page();
    }

    Task<SummaryReply> SummaryAsync(CancellationToken cancel) =>
        network.Care.SummaryAsync(new SummaryRequest { Site = User.Site() ?? "", Ticket = Ticket ?? "" }, PortalNetwork.For(User, cancel)).ResponseAsync;

    PageResult Fail(RpcException e, string peer)
    {
        Problem = e.StatusCode switch
        {
            RpcCode.NotFound => words["This site has no such patient. You can only open patients of your own site."],
            RpcCode.FailedPrecondition or RpcCode.InvalidArgument when Ticket is not null => words["The patient's ticket expired or is unknown: please open the patient again."],
            _ => PortalNetwork.Explain(e, peer),
        };
        Summary = null;
        Response.StatusCode = e.StatusCode switch
        {
            RpcCode.NotFound => StatusCodes.Status404NotFound,
            RpcCode.PermissionDenied => StatusCodes.Status403Forbidden,
            RpcCode.InvalidArgument or RpcCode.FailedPrecondition => StatusCodes.Status400BadRequest,
            _ => StatusCodes.Status502BadGateway,
        };
        return Page();
    }

    static bool IsKvnr(string text) => text.Length == 10 && char.IsAsciiLetter(text[0]) && text[1..].All(char.IsAsciiDigit);

    /// <summary>The chart data the page's script draws: one series per trend, dates as labels.</summary>
    public string TrendJson() => JsonSerializer.Serialize(Trends.Select((t, i) => new
    {
        id = $"trend-{i}",
        label = Label(t),
        unit = EntryText.Unit(t.Unit),
        dates = t.Points.Select(p => p.Date),
        values = t.Points.Select(p => p.Value),
    }));

    /// <summary>PSA, CA 15-3 and EDSS under the names clinicians use; any other series by its display.</summary>
    public static string Label(Trend t) =>
        FollowedSeries.TryGetValue(t.Code, out var name) ? name
        : t.Display.Contains("EDSS", StringComparison.OrdinalIgnoreCase) || t.Code.Contains("edss", StringComparison.OrdinalIgnoreCase) ? "EDSS"
        : t.Display;

    public string SiteStatus(SummarySite site) => words[site.Status.Word()].Replace('_', ' ');

    /// <summary>Why a site gave nothing, in plain words: the site's own message, else what the status means.</summary>
    public string Reason(SummarySite site) => site.Status == Midia.Protos.Coordinator.V1.SiteStatus.Ok
        ? words.Format("{0} entries", site.Entries)
        : words[SummarySection.Meaning(site.Status)];
}
