using Midia.Node.Audit;
using Midia.Node.Consent;
using Midia.Node.Import;
using Midia.Node.Linkage;
using Midia.Node.Policy;
using Midia.Node.Store;
using Midia.Node.Transparency;
using Midia.Protos.Node.V1;
using Midia.Trust;
using Grpc.Core;

namespace Midia.Node.Care;

/// <summary>
/// midia.node.v1.PatientCare: the cross-site patient summary (issue 6) and, through
/// PatientReports, the patient's transparency report (issue 7).
/// A clinician resolves their own site's patient here and gets a sealed ticket; the coordinator
/// redeems it (OpenTicket) for the linkage pseudonym and asks every site for its part
/// (PatientSummary). The KVNR and local id never leave this node.
/// </summary>
public sealed class PatientCare(NodeSite node, SiteSessions sessions, LinkageKey linkage, PatientReports reports, PatientTickets tickets)
    : Protos.Node.V1.PatientCare.PatientCareBase
{
    readonly string site = node.Id;

    public const string SiteStatusTrailer = "midia-site-status";
    /// <summary>Unknown patient and no care-sharing consent are one answer on purpose (node.proto).</summary>
    public const string NotSharedMessage = "nothing to share: the patient has not permitted care-sharing here, or this site has no record";

    // Only the clinician's own site ever sees the identifier they start from.
    [RequireRole("clinician")]
    [RequireOwnSite("your certificate is for site '{caller}', this node is site '{site}': resolve the patient at your own site's node")]
    public override Task<ResolvePatientReply> ResolvePatient(ResolvePatientRequest request, ServerCallContext context)
    {
        var clinician = context.Caller();
        var (kvnr, localId) = LocalPatient.Named(site,
            request.PatientCase == ResolvePatientRequest.PatientOneofCase.Kvnr ? request.Kvnr : null,
            request.PatientCase == ResolvePatientRequest.PatientOneofCase.LocalId ? request.LocalId : null,
            "kvnr", "give the patient's local id or KVNR");

        return sessions.RunAsync(session =>
        {
            var today = Days.Today();
            var decision = session.Approvals.Check(QueryTypes.PatientSummary, null, today);
            if (!decision.Allowed)
            {
                session.Audit.Refused(clinician.AuditName, clinician.Role, null, QueryTypes.PatientSummary, null, "resolve: " + decision.Reason);
                throw NotApproved(decision.Reason);
            }
            var pids = LocalPatient.Matching(session.Connection, kvnr, localId);
            if (pids.Count == 0)
            {
                session.Audit.Refused(clinician.AuditName, clinician.Role, null, QueryTypes.PatientSummary, null, "resolve: no such patient at this site");
                throw new RpcException(new Status(StatusCode.NotFound, kvnr is not null
                    ? $"{site}: no patient with that KVNR at this site"
                    : $"{site}: no patient '{localId}' at this site"));
            }
            // Several local records with one KVNR are one person: they share the pseudonym.
            var pid = pids[0];
            var pseudonym = Pseudonym(session, pid)
                ?? throw new RpcException(new Status(StatusCode.FailedPrecondition, $"{site}: the patient has neither a KVNR nor a name and birth date to link records by"));
            var (ticket, expires) = tickets.Issue(pid, pseudonym, clinician.Name, site);
            session.Audit.Answered(clinician.AuditName, clinician.Role, null, QueryTypes.PatientSummary, null, $"patient resolved, ticket valid {PatientTickets.Lifetime.TotalMinutes:0} min");
            return new ResolvePatientReply { Ticket = ticket, ExpiresUnixMs = expires.ToUnixTimeMilliseconds() };
        }, context.CancellationToken);
    }

    [RequireRole("coordinator")]
    public override Task<OpenTicketReply> OpenTicket(OpenTicketRequest request, ServerCallContext context)
    {
        var ticket = tickets.Open(request.Ticket)
            ?? throw new RpcException(new Status(StatusCode.InvalidArgument, $"{site}: the ticket was not issued by this node (or the node restarted since): resolve the patient again"));
        if (ticket.Clinician != request.User?.Name || ticket.ClinicianSite != request.User?.Site)
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"{site}: the ticket was issued to another clinician"));
        if (tickets.Expired(ticket))
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"{site}: the ticket expired at {ticket.Expires.UtcDateTime:HH:mm:ss} UTC: resolve the patient again"));
        return Task.FromResult(new OpenTicketReply { Linkage = ticket.Linkage });
    }

    [RequireRole("coordinator")]
    public override Task<PatientSummaryReply> PatientSummary(PatientSummaryRequest request, ServerCallContext context)
    {
        if (string.IsNullOrWhiteSpace(request.Linkage)) throw new RpcException(new Status(StatusCode.InvalidArgument, $"{site}: linkage: missing"));
        var user = request.User ?? new EndUser();
        return sessions.RunAsync(session =>
        {
            var today = Days.Today();
            var pids = Linked(session, request.Linkage);
            var decision = session.Approvals.Check(QueryTypes.PatientSummary, null, today);
            if (!decision.Allowed)
            {
                foreach (var pid in pids) Access(session, pid, user, RecordAccessLog.Refused, "patient summaries not approved at this site");
                session.Audit.Refused(user.AuditName(), user.Role, null, QueryTypes.PatientSummary, null, decision.Reason ?? "not approved", request.RequestId);
                throw NotApproved(decision.Reason);
            }
            if (pids.Count == 0)
            {
                session.Audit.Refused(user.AuditName(), user.Role, null, QueryTypes.PatientSummary, null, "not shared", request.RequestId);
                throw NotShared();
            }
            // The clinician's own site always shows its own data to its own clinician.
            var ownSite = user.Site == site;
            var released = ownSite ? pids : pids.Where(pid => session.Consent.IsPermitted(pid, ConsentPolicies.CareSharing, today)).ToList();
            foreach (var pid in pids.Except(released)) Access(session, pid, user, RecordAccessLog.Refused, "no care-sharing consent");
            if (released.Count == 0)
            {
                session.Audit.Refused(user.AuditName(), user.Role, null, QueryTypes.PatientSummary, null, "not shared", request.RequestId);
                throw NotShared();
            }

            var entries = new List<SummaryEntry>();
            foreach (var pid in released)
            {
                var own = PatientSummaries.Read(session.Connection, [pid]);
                Access(session, pid, user, RecordAccessLog.Released, (ownSite ? "own site: " : "") + PatientSummaries.Detail(own));
                entries.AddRange(own);
            }
            // Several local records of one person: one timeline (ISO dates sort as text; undated last).
            var reply = new PatientSummaryReply { Entries = { released.Count == 1 ? entries : entries.OrderBy(e => e.Date.Length == 0 ? "~" : e.Date, StringComparer.Ordinal) } };
            session.Audit.Answered(user.AuditName(), user.Role, null, QueryTypes.PatientSummary, null, $"{reply.Entries.Count} entries ({PatientSummaries.Detail(reply.Entries)})", request.RequestId);
            return reply;
        }, context.CancellationToken);
    }

    [RequireRole("coordinator")]
    public override Task<PatientReportReply> PatientReport(PatientReportRequest request, ServerCallContext context) =>
        reports.Report(request, context);

    /// <summary>The stored pseudonym; computed here when serve has not filled it yet.</summary>
    string? Pseudonym(SiteSession session, long pid)
    {
        using var command = session.Connection.CreateCommand();
        command.CommandText = "SELECT linkage, kvnr, family, given, birth_date, sex FROM patient WHERE pid = $pid";
        command.Parameters.AddWithValue("$pid", pid);
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return null;
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        return Text(0) ?? LinkagePseudonym.Of(linkage, Text(1), Text(2), Text(3), reader.IsDBNull(4) ? null : reader.GetInt32(4), Text(5));
    }

    static List<long> Linked(SiteSession session, string pseudonym)
    {
        using var command = session.Connection.CreateCommand();
        command.CommandText = "SELECT pid FROM patient WHERE linkage = $linkage ORDER BY pid";
        command.Parameters.AddWithValue("$linkage", pseudonym);
        var pids = new List<long>();
        using var reader = command.ExecuteReader();
        while (reader.Read()) pids.Add(reader.GetInt64(0));
        return pids;
    }

    static void Access(SiteSession session, long pid, EndUser user, string outcome, string detail) =>
        RecordAccessLog.Record(session.Connection, pid, Blank(user.Name), Blank(user.Role), Blank(user.Site), QueryTypes.PatientSummary, outcome, detail);

    static string? Blank(string? text) => string.IsNullOrEmpty(text) ? null : text;

    RpcException NotApproved(string? reason) =>
        new(new Status(StatusCode.PermissionDenied, $"{site}: {reason ?? $"query type {QueryTypes.PatientSummary} not approved by the site admin"}"),
            new Metadata { { SiteStatusTrailer, "not_approved" } });

    RpcException NotShared() =>
        new(new Status(StatusCode.NotFound, $"{site}: {NotSharedMessage}"), new Metadata { { SiteStatusTrailer, "not_shared" } });
}
