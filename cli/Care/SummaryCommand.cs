using System.CommandLine;
using Midia.Trust;
using Midia.Cli.Research;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;

using Grpc.Core;
using Midia.Hosting;
using Spectre.Console;

using Midia.Care;

namespace Midia.Cli.Care;

/// <summary>
/// `midia summary --site ID (--patient LOCALID | --kvnr K) [--json | --fhir] [--node URL]`: a
/// clinician's cross-site patient summary. The KVNR or local id goes only to the clinician's own
/// site's node, which answers with an opaque ticket; the coordinator gets the ticket, never the id.
/// </summary>
public static class SummaryCommand
{

    /// <summary>The response trailer with which nodes (and the coordinator passing it on) name a site's state.</summary>
    const string SiteStatusTrailer = "midia-site-status";

    public static Command Command()
    {
        var site = new Option<string>("--site") { HelpName = "ID", Description = "Your own site, where the patient is known (your certificate must name it)", Required = true };
        var patient = new Option<string?>("--patient") { HelpName = "LOCALID", Description = "The patient's id at your site (its Patient resource id)" };
        var kvnr = new Option<string?>("--kvnr") { HelpName = "K", Description = "The patient's KVNR (statutory insurance id); sent only to your own site's node" };
        var json = new Option<bool>("--json") { Description = "Print one JSON document (docs/INTERFACE.md) instead of the view" };
        var fhir = new Option<bool>("--fhir") { Description = "Print a FHIR R4 International Patient Summary document Bundle instead of the view" };
        var node = new Option<string?>("--node") { HelpName = "URL", Description = "Your site's node, https://HOST:PORT (default: the address the coordinator lists for --site)" };
        var command = new Command("summary", "A clinician's summary of one patient from every site the patient allowed: problems, therapies, results with trends, procedures, imaging — and which sites are missing and why")
        {
            site, patient, kvnr, json, fhir, node,
        };
        var connection = new CoordinatorConnection().AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var siteId = parse.GetValue(site)!.Trim();
            var request = Resolution(parse.GetValue(patient), parse.GetValue(kvnr));
            if (parse.GetValue(json) && parse.GetValue(fhir)) throw new CommandException("--json and --fhir: choose one");
            using var session = connection.Open(parse);
            var address = parse.GetValue(node) is { Length: > 0 } given ? given : await SiteAddressAsync(session, siteId, cancellationToken);
            var ticket = await ResolveAsync(session, siteId, address, request, request.PatientCase == ResolvePatientRequest.PatientOneofCase.Kvnr ? "KVNR" : "id", cancellationToken);
            var reply = await session.CallAsync((s, o) => s.Care.SummaryAsync(new SummaryRequest { Site = siteId, Ticket = ticket }, o), cancellationToken,
                e => CoordinatorRefusal(e, session.Address, siteId));
            if (parse.GetValue(json) || parse.GetValue(fhir))
            {
                using var stdout = Console.OpenStandardOutput();
                using (var writer = CountJson.Stdout(stdout))
                {
                    if (parse.GetValue(json)) SummaryJson.Write(writer, reply);
                    else IpsBundle.Build(reply, DateTimeOffset.UtcNow).WriteTo(writer);
                }
                stdout.WriteByte((byte)'\n');
            }
            else SummaryView.Write(AnsiConsole.Console, reply);
            return 0;
        });
        return command;
    }

    /// <summary>Exactly one of --patient and --kvnr; a KVNR of the wrong shape is refused here, before anything is sent.</summary>
    public static ResolvePatientRequest Resolution(string? patient, string? kvnr)
    {
        patient = patient?.Trim();
        kvnr = kvnr?.Trim().ToUpperInvariant();
        if (string.IsNullOrEmpty(patient) == string.IsNullOrEmpty(kvnr))
            throw new CommandException("name the patient with exactly one of --patient LOCALID and --kvnr K");
        if (!string.IsNullOrEmpty(patient)) return new ResolvePatientRequest { LocalId = patient };
        if (!Midia.Node.Store.LocalPatient.IsKvnrShape(kvnr!)) throw new CommandException("--kvnr: a KVNR is one capital letter followed by 9 digits");
        return new ResolvePatientRequest { Kvnr = kvnr };
    }

    static async Task<string> SiteAddressAsync(CoordinatorConnection.Session session, string siteId, CancellationToken cancellationToken)
    {
        var sites = await session.CallAsync((s, o) => s.Research.SitesAsync(new SitesRequest(), o), cancellationToken);
        return sites.Sites.FirstOrDefault(s => s.Id == siteId)?.Address
            ?? throw new CommandException($"site {siteId} is not in the coordinator's registry (it knows {(sites.Sites.Count == 0 ? "no site" : string.Join(", ", sites.Sites.Select(s => s.Id)))}); check --site, or give your node with --node URL");
    }

    /// <summary>PatientCare.ResolvePatient on the clinician's own node, with the clinician's own certificate.</summary>
    static async Task<string> ResolveAsync(CoordinatorConnection.Session session, string siteId, string address, ResolvePatientRequest request, string what, CancellationToken cancellationToken)
    {
        using var channel = session.OpenNode(address, siteId);
        var node = $"the node of site {siteId} at {channel.Address.ToString().TrimEnd('/')}";
        try
        {
            var reply = await new PatientCare.PatientCareClient(channel.Invoker).ResolvePatientAsync(request,
                deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellationToken);
            return reply.Ticket.Length > 0 ? reply.Ticket : throw new CommandException($"{node} answered without a ticket");
        }
        catch (RpcException e)
        {
            throw new CommandException(e.StatusCode switch
            {
                StatusCode.NotFound => $"site {siteId} has no patient with that {what}",
                StatusCode.PermissionDenied when IsNotApproved(e) => NotApproved(siteId),
                StatusCode.PermissionDenied => $"{node} refused: only a clinician whose certificate names site {siteId} may look up its patients ({e.Status.Detail})",
                StatusCode.Unauthenticated => $"{node} does not accept your certificate: {e.Status.Detail}",
                StatusCode.Unavailable when e.IsConnectionRefused() =>
                    $"{node} unavailable: connection refused (is midia-node serve running? --node URL names another address)",
                StatusCode.Unavailable => $"{node} unavailable: {e.Problem()}",
                StatusCode.DeadlineExceeded => $"{node} did not answer in time",
                StatusCode.Unimplemented => $"{node} does not offer patient summaries ({e.Status.Detail})",
                StatusCode.InvalidArgument or StatusCode.FailedPrecondition => $"{node}: {e.Status.Detail}",
                _ => $"{node}: {e.StatusCode}: {e.Status.Detail}",
            });
        }
    }

    /// <summary>The coordinator's refusals of Summary, in words that say what is needed; null: the general wording.</summary>
    public static string? CoordinatorRefusal(RpcException e, string coordinator, string siteId) => e.StatusCode switch
    {
        StatusCode.PermissionDenied when IsNotApproved(e) => NotApproved(siteId),
        // The coordinator is fine; the clinician's own site could not (or would not) redeem the ticket.
        _ when e.Status.Detail.StartsWith("your site ", StringComparison.Ordinal) => e.Status.Detail,
        StatusCode.PermissionDenied => $"coordinator {coordinator} refused the summary: it needs a clinician certificate that names site {siteId} ({e.Status.Detail})",
        StatusCode.NotFound or StatusCode.FailedPrecondition or StatusCode.InvalidArgument => $"coordinator {coordinator}: {e.Status.Detail}",
        StatusCode.Unimplemented => $"coordinator {coordinator} does not offer patient summaries ({e.Status.Detail})",
        _ => null,
    };

    static bool IsNotApproved(RpcException e) => e.Trailers.GetValue(SiteStatusTrailer) == "not_approved";

    static string NotApproved(string siteId) =>
        $"site {siteId} has not approved patient-summary: its site admin can approve it with `midia-node admin approve --db FILE patient-summary`";
}
