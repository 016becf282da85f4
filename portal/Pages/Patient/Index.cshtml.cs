using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Midia.Portal.Network;
using Midia.Portal.SignIn;
using Midia.Portal.Text;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Grpc.Core;
using RpcCode = Grpc.Core.StatusCode;

namespace Midia.Portal.Pages.Patient;

/// <summary>
/// The patient view: consent per purpose in plain words, granted or revoked with one click
/// (midia.node.v1.PatientAccess at the home site's node: the `consent set` path to every site),
/// and where each change is in force and since when (the transparency report is Report.cshtml).
/// The account's KVNR goes only to the home site's node; nothing is kept here between requests.
/// </summary>
[Authorize(Roles = "patient")]
public sealed class IndexModel(PortalNetwork network, Words words) : PageModel
{

    public PatientConsentReply? Consent { get; private set; }
    public string? Problem { get; private set; }
    /// <summary>What the last click did, said back to the patient.</summary>
    public string? Done { get; private set; }

    /// <param name="changed">The purpose just changed (after the redirect of a click), to say back what happened.</param>
    public async Task OnGetAsync(string? changed, bool? permitted, CancellationToken cancel)
    {
        if (changed is "research" or "care-sharing" && permitted is { } permit)
            Done = words.Format(permit ? "You granted: {0}. It is in force at your home site now and is being passed on to every other site."
                                       : "You revoked: {0}. It is in force at your home site now and is being passed on to every other site.", words[PurposeTitle(changed)]);
        await LoadConsentAsync(cancel);
    }

    /// <summary>One click: the change, then a redirect, so reloading the page never repeats it.</summary>
    public async Task<IActionResult> OnPostSetAsync(string purpose, bool permit, CancellationToken cancel)
    {
        try
        {
            await network.PatientAccess.SetConsentAsync(
                new SetPatientConsentRequest { Patient = Me(), Purpose = purpose ?? "", Permit = permit }, PortalNetwork.For(User, cancel));
            return RedirectToPage(new { changed = purpose, permitted = permit });
        }
        catch (RpcException e)
        {
            Problem = PortalNetwork.Explain(e, words["your home site"]);
            Response.StatusCode = e.StatusCode == RpcCode.InvalidArgument ? StatusCodes.Status400BadRequest : StatusCodes.Status502BadGateway;
            await LoadConsentAsync(cancel);
            return Page();
        }
    }

    async Task LoadConsentAsync(CancellationToken cancel)
    {
        try
        {
            Consent = await network.PatientAccess.ConsentAsync(new PatientConsentRequest { Patient = Me() }, PortalNetwork.For(User, cancel)).ResponseAsync;
        }
        catch (RpcException e)
        {
            Problem ??= PortalNetwork.Explain(e, words["your home site"]);
        }
    }

    PatientRef Me() => Me(User);

    /// <summary>The patient the account is bound to (sign-in put the KVNR in the cookie).</summary>
    public static PatientRef Me(System.Security.Claims.ClaimsPrincipal user) => new() { Kvnr = user.Kvnr() ?? "" };

    public static string PurposeTitle(string purpose) => purpose switch
    {
        "research" => "Use of my data for research",
        "care-sharing" => "Sharing my record with my doctors at other sites",
        _ => purpose,
    };

    public static string PurposeExplanation(string purpose) => purpose switch
    {
        "research" => "Researchers may count you in statistics over many patients, for example: how many women with HER2-positive breast cancer were treated with trastuzumab? Only numbers leave your hospital, made slightly fuzzy so that no single person can be recognised — never your name or your record.",
        "care-sharing" => "A doctor treating you at another hospital or practice of the network may see your diagnoses, therapies, results and imaging from here, for your care. Your own site's doctors always see your record.",
        _ => "",
    };

    /// <summary>An ISO time as the patient reads it: date and minute, UTC said plainly.</summary>
    public static string When(string iso) =>
        DateTimeOffset.TryParse(iso, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t)
            ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture) : iso;
}
