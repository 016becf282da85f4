using System.Globalization;
using Midia.Node.Audit;
using Midia.Node.Disclosure;
using Midia.Node.Policy;
using Midia.Node.Store;
using Midia.Protos.Node.V1;
using Midia.Trust;
using Grpc.Core;
using Midia.Hosting;

namespace Midia.Node.Admin;

/// <summary>
/// `midia.node.v1.SiteAdmin`: the site admin's controls over the network (the portal's admin
/// view), on the same classes as `midia-node admin` — QueryApproval, DisclosureControl, AuditLog.
/// Only this site's admins; every change is audited with who made it.
/// </summary>
// Only an admin of this very site: a certificate (or portal user) of another site is refused
// before the request is read — another site's admin learns nothing, not even what is malformed.
[RequireRole("site-admin")]
[RequireOwnSite("you are a site admin of '{caller}', this node is site '{site}'")]
public sealed class SiteAdmin(SiteSessions sessions) : Protos.Node.V1.SiteAdmin.SiteAdminBase
{
    const int DefaultAuditLimit = 200, MaxAuditLimit = 1000;
    const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public override Task<QueryTypesReply> ListQueryTypes(ListQueryTypesRequest request, ServerCallContext context) =>
        Run(context, session => Overview(session));

    public override Task<QueryTypesReply> Approve(ApproveRequest request, ServerCallContext context)
    {
        var (type, project) = Decision(request.QueryType, request.Project);
        var until = Input(() => DateFlag.Parse(Empty(request.Until), "until"));
        if (until < Days.Today()) throw new RpcException(new Status(StatusCode.InvalidArgument, $"until {request.Until} is in the past: the approval would never hold"));
        return Run(context, session =>
        {
            session.Approvals.Approve(type, project, until);
            Changed(session, context, type, project, $"approved {type} for {Scope(project)}{(until is null ? "" : " until " + DateFlag.Format(until))}");
            return Overview(session);
        });
    }

    public override Task<QueryTypesReply> Deny(DecideRequest request, ServerCallContext context) => Refuse(request, context, "denied");

    public override Task<QueryTypesReply> Revoke(DecideRequest request, ServerCallContext context) => Refuse(request, context, "revoked");

    Task<QueryTypesReply> Refuse(DecideRequest request, ServerCallContext context, string verb)
    {
        var (type, project) = Decision(request.QueryType, request.Project);
        return Run(context, session =>
        {
            session.Approvals.Revoke(type, project);
            Changed(session, context, type, project, $"{verb} {type} for {Scope(project)}");
            return Overview(session);
        });
    }

    public override Task<DisclosureReply> ListDisclosure(ListDisclosureRequest request, ServerCallContext context) =>
        Run(context, Disclosures);

    public override Task<DisclosureReply> SetDisclosure(SetDisclosureRequest request, ServerCallContext context)
    {
        var type = Input(() => QueryTypes.Parse(request.QueryType));
        var epsilon = request.HasEpsilon ? Input(() => DisclosureSetting.ParseEpsilon(request.Epsilon)) : (decimal?)null;
        if (request.HasRound && request.Round < 1) throw new RpcException(new Status(StatusCode.InvalidArgument, $"round: expected N ≥ 1, got {request.Round}"));
        if (request.HasThreshold && request.Threshold < 0) throw new RpcException(new Status(StatusCode.InvalidArgument, $"threshold: expected K ≥ 0, got {request.Threshold}"));
        return Run(context, session =>
        {
            var setting = session.Disclosure.Configure(type, epsilon, request.HasRound ? request.Round : null, request.HasThreshold ? request.Threshold : null, request.HasExact ? request.Exact : null);
            Changed(session, context, type, null, $"disclosure of {type}: {DisclosureCommand.Describe(setting)}");
            return Disclosures(session);
        });
    }

    public override Task<AuditReply> Audit(AuditRequest request, ServerCallContext context)
    {
        var since = Input(() => DateFlag.Parse(Empty(request.Since), "since"));
        var until = Input(() => DateFlag.Parse(Empty(request.Until), "until"));
        if (request.Outcome.Length > 0 && request.Outcome is not (AuditOutcome.Answered or AuditOutcome.Refused or AuditOutcome.Error))
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"outcome '{request.Outcome}': use answered, refused or error"));
        if (request.QueryType.Length > 0) Input(() => QueryTypes.Parse(request.QueryType));
        if (request.Limit < 0) throw new RpcException(new Status(StatusCode.InvalidArgument, "limit: expected 0 (default) or more"));
        var limit = request.Limit == 0 ? DefaultAuditLimit : Math.Min(request.Limit, MaxAuditLimit);
        return Run(context, session =>
        {
            var from = since is null ? (DateTime?)null : Days.ToDate(since.Value).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            var to = until is null ? DateTime.MaxValue : Days.ToDate(until.Value + 1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            var matching = session.Audit.Read(from)
                .Where(e => e.Time < to)
                .Where(e => request.Outcome.Length == 0 || e.Outcome == request.Outcome)
                .Where(e => request.QueryType.Length == 0 || e.QueryType == request.QueryType)
                .Where(e => request.User.Length == 0 || (e.UserName ?? "").Contains(request.User, StringComparison.OrdinalIgnoreCase))
                .ToList();
            var reply = new AuditReply { Matching = matching.Count };
            for (var i = matching.Count - 1; i >= 0 && reply.Entries.Count < limit; i--)
            {
                var e = matching[i];
                reply.Entries.Add(new AuditRecord
                {
                    Time = e.Time.ToString(TimeFormat, CultureInfo.InvariantCulture), User = e.UserName ?? "", Role = e.UserRole ?? "", Project = e.Project ?? "",
                    QueryType = e.QueryType, QueryHash = e.QueryHash ?? "", Outcome = e.Outcome, Reason = e.Reason ?? "", Released = e.Released ?? "", RequestId = e.RequestId ?? "",
                });
            }
            return reply;
        });
    }

    Task<T> Run<T>(ServerCallContext context, Func<SiteSession, T> work) => sessions.RunAsync(work, context.CancellationToken);

    static QueryTypesReply Overview(SiteSession session)
    {
        var overview = session.Approvals.Overview(Days.Today());
        var reply = new QueryTypesReply { Known = { QueryTypes.All } };
        reply.Approved.AddRange(overview.Approved.Select(ToMessage));
        reply.Denied.AddRange(overview.Denied.Select(ToMessage));
        reply.Pending.AddRange(overview.Pending.Select(p => new PendingQueryType
        {
            QueryType = p.QueryType, Project = p.Project ?? "", FirstSeen = p.FirstSeen, LastSeen = p.LastSeen, Requests = p.Count,
        }));
        reply.Undecided.AddRange(QueryTypes.All.Where(t => !overview.Approved.Any(a => a.QueryType == t) && !overview.Denied.Any(d => d.QueryType == t)));
        return reply;
    }

    static QueryTypeDecision ToMessage(ApprovalEntry a) => new()
    {
        QueryType = a.QueryType, Project = a.Project ?? "", Until = DateFlag.Format(a.Until) ?? "", Changed = a.Changed, Note = a.Note ?? "",
    };

    static DisclosureReply Disclosures(SiteSession session)
    {
        var reply = new DisclosureReply();
        foreach (var type in QueryTypes.All)
        {
            var s = session.Disclosure.Setting(type);
            reply.Rules.Add(new DisclosureRule
            {
                QueryType = type, Exact = s.Exact, Epsilon = DisclosureSetting.Format(s.Epsilon), Round = s.Round, Threshold = s.Threshold,
                Treatment = DisclosureCommand.Describe(s),
            });
        }
        return reply;
    }

    /// <summary>An admin's change goes into the same append-only audit as every request.</summary>
    static void Changed(SiteSession session, ServerCallContext context, string type, string? project, string what)
    {
        var admin = context.Caller();
        session.Audit.Answered(admin.AuditName, admin.Role, project, type, null, "site admin: " + what);
    }

    static (string Type, string? Project) Decision(string type, string project) =>
        (Input(() => QueryTypes.Parse(type)), string.IsNullOrWhiteSpace(project) ? null : project.Trim());

    static string? Empty(string text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    static string Scope(string? project) => project is null ? "every project" : $"project {project}";

    /// <summary>The CLI's parsers say what is wrong with a flag; here the same words become INVALID_ARGUMENT.</summary>
    static T Input<T>(Func<T> parse)
    {
        try { return parse(); }
        catch (CommandException e) { throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message.TrimStart('-'))); }
    }
}
