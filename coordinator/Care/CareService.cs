using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Midia.Coordinator.FanOut;
using Midia.Coordinator.Sites;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Midia.Trust;
using Grpc.Core;

namespace Midia.Coordinator.Care;

/// <summary>
/// midia.coordinator.v1.Care: the clinician's cross-site patient summary (issue 6) and the
/// patient's transparency report (issue 7). Sees only tickets and linkage pseudonyms.
/// Summary: the clinician's own site redeems its ticket for the linkage pseudonym, every site of
/// the registry is asked for its part in parallel, and the parts become one timeline with exact
/// duplicates folded. The pseudonym and the entries are never logged or stored here.
/// </summary>
public sealed partial class CareService(SiteRegistry registry, SiteFanOut fanOut, Transparency.PatientReports reports, TimeProvider time, ILogger<CareService> logger)
    : Protos.Coordinator.V1.Care.CareBase
{
    const string QueryType = "patient-summary";

    [RequireRole("clinician")]
    public override async Task<SummaryReply> Summary(SummaryRequest request, ServerCallContext context)
    {
        var clinician = context.Caller();
        var home = request.Site.Trim();
        if (home.Length == 0) throw new RpcException(new Status(StatusCode.InvalidArgument, "site: missing: name your own site, which resolved the patient"));
        if (clinician.Site is null)
            throw new RpcException(new Status(StatusCode.PermissionDenied, "your clinician certificate names no site: a summary starts at your own site"));
        if (clinician.Site != home)
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"your certificate is for site '{clinician.Site}', not '{home}': a summary starts from a patient of your own site"));
        if (string.IsNullOrWhiteSpace(request.Ticket)) throw new RpcException(new Status(StatusCode.InvalidArgument, "ticket: missing: resolve the patient at your site's node first"));
        var connection = fanOut.Connection(home)
            ?? throw new RpcException(new Status(StatusCode.FailedPrecondition, $"site '{home}' is not in the network's registry ({registry.Path})"));

        var started = Stopwatch.GetTimestamp();
        var requestId = Guid.CreateVersion7(time.GetUtcNow()).ToString("N");
        var user = new EndUser { Name = clinician.Name, Role = clinician.Role, Site = home, Via = clinician.Via?.Name ?? "" };
        var opened = await connection.CallAsync(QueryType, (site, options) => site.Care.OpenTicketAsync(new OpenTicketRequest { User = user, Ticket = request.Ticket }, options),
            context.CancellationToken).ConfigureAwait(false);
        if (opened.Reply is not { } ticket) throw TicketRefused(home, opened);

        var order = fanOut.Connections.Select(c => c.Site.Id).ToList();
        var answers = new List<SiteAnswer<PatientSummaryReply>>();
        await foreach (var answer in fanOut.AskEveryAsync(QueryType,
            (site, options) => site.Care.PatientSummaryAsync(new PatientSummaryRequest { User = user, Linkage = ticket.Linkage, RequestId = requestId }, options),
            context.CancellationToken).ConfigureAwait(false))
            answers.Add(answer);
        answers = [.. answers.OrderBy(a => order.IndexOf(a.Site) is var i and >= 0 ? i : int.MaxValue)];

        var reply = new SummaryReply { RequestId = requestId };
        reply.Sites.AddRange(answers.Select(a => new SummarySite
        {
            Site = a.Site,
            Status = a.Status,
            Message = Explain(a),
            Entries = a.Reply?.Entries.Count ?? 0,
            LatencyMicros = a.LatencyMicros,
        }));
        reply.Entries.AddRange(SummaryTimeline.Merge(answers.Where(a => a.Reply is not null).Select(a => (a.Site, (IReadOnlyList<SummaryEntry>)a.Reply!.Entries))));
        Log.Summary(logger, requestId, string.Join(", ", reply.Sites.Select(s => $"{s.Site} {s.Status.Word()}")), reply.Entries.Count,
            (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return reply;
    }

    /// <summary>The patient's transparency report (issue 7), built in coordinator/Transparency.</summary>
    [RequireRole("node", "clinician")]
    public override Task<Protos.Coordinator.V1.PatientReportReply> PatientReport(Protos.Coordinator.V1.PatientReportRequest request, ServerCallContext context) =>
        reports.Report(request, context);

    /// <summary>The home site could not redeem the ticket: the clinician learns why and what to do.</summary>
    static RpcException TicketRefused(string home, SiteAnswer<OpenTicketReply> answer)
    {
        var detail = answer.Refusal?.Status.Detail is { Length: > 0 } d && d.StartsWith(home + ": ", StringComparison.Ordinal) ? d[(home.Length + 2)..] : answer.Refusal?.Status.Detail;
        return answer.Refusal?.StatusCode switch
        {
            StatusCode.PermissionDenied or StatusCode.FailedPrecondition or StatusCode.InvalidArgument =>
                new RpcException(new Status(answer.Refusal.StatusCode, $"your site {home} did not accept the ticket: {detail}")),
            _ => new RpcException(new Status(answer.Status == SiteStatus.Timeout ? StatusCode.DeadlineExceeded : StatusCode.Unavailable,
                $"your site {home} could not open the ticket ({answer.Status.Word()}: {answer.Message}); without it no site can be asked")),
        };
    }

    /// <summary>Per site, plainly what is missing from the summary and why.</summary>
    static string Explain<T>(SiteAnswer<T> answer) where T : class => answer.Status switch
    {
        SiteStatus.Ok => "",
        SiteStatus.NotShared => answer.Message,
        SiteStatus.NotApproved => "this site's admin has not approved patient summaries (patient-summary): anything it holds is not shown",
        SiteStatus.Timeout or SiteStatus.Unavailable => $"{answer.Message}: anything this site holds is missing from the summary",
        _ => $"{answer.Message}: anything this site holds is missing from the summary",
    };

    static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "summary {RequestId}: {Sites}; {Entries} timeline entries in {Milliseconds} ms")]
        public static partial void Summary(ILogger logger, string requestId, string sites, int entries, long milliseconds);
    }
}
