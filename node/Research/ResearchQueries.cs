using Midia.Node.Audit;
using Midia.Node.Consent;
using Midia.Node.Disclosure;
using Midia.Node.Policy;
using Midia.Node.Query;
using Midia.Node.Store;
using Midia.Protos.Node.V1;
using Midia.Trust;
using Grpc.Core;

namespace Midia.Node.Research;

/// <summary>
/// The node's research API (SiteNode): cohort counts and stratified counts for the coordinator.
/// Every request runs the same gate — approval, a query the node can evaluate exactly, research
/// consent, disclosure control — and leaves exactly one audit entry, answered or refused.
/// </summary>
[RequireRole("coordinator")]
public sealed class ResearchQueries(NodeSite node, SiteSessions sessions) : SiteNode.SiteNodeBase
{
    readonly string site = node.Id;

    public const string SiteStatusTrailer = "midia-site-status";

    /// <summary>Whether answered queries go to the usage ledger; off only for the benchmark's baseline.</summary>
    public bool RecordUsage { get; init; } = node.RecordUsage;

    public override Task<CohortCountReply> CohortCount(CohortCountRequest request, ServerCallContext context) =>
        sessions.RunAsync(session => Answer(session, QueryTypes.CohortCount, request.User, request.QueryId, request.CcdlJson, (query, cohort, today) =>
        {
            var hash = query.CanonicalHash;
            var released = session.Disclosure.Release(cohort.Count(), QueryTypes.CohortCount, hash, session.DataVersion());
            return (new CohortCountReply { Count = ToMessage(released), CanonicalHash = hash }, hash, released.Summary);
        }), context.CancellationToken);

    public override Task<StratifiedCountReply> StratifiedCount(StratifiedCountRequest request, ServerCallContext context) =>
        sessions.RunAsync(session => Answer(session, QueryTypes.StratifiedCount, request.User, request.QueryId, request.CcdlJson, (query, cohort, today) =>
        {
            var by = request.StratifyBy.Select(s => s.Trim()).ToList();
            var strata = session.Evaluator.Stratify(query, cohort, by, today);
            var hash = query.StratifiedHash(by);
            var dataVersion = session.DataVersion();
            var reply = new StratifiedCountReply { CanonicalHash = hash };
            var releasedCells = 0;
            foreach (var stratum in strata)
            {
                var cell = string.Join("|", stratum.Key);
                var released = session.Disclosure.Release(stratum.Count, QueryTypes.StratifiedCount, hash, dataVersion, cell);
                if (released.Value is not null) releasedCells++;
                var message = new Stratum { Count = ToMessage(released) };
                for (var i = 0; i < by.Count; i++) message.Key[by[i]] = stratum.Key[i];
                reply.Strata.Add(message);
            }
            return (reply, hash, $"{strata.Count} strata, {releasedCells} released");
        }), context.CancellationToken);

    /// <summary>The gate every research request passes; refusals become statuses the coordinator maps to per-site states.</summary>
    TReply Answer<TReply>(SiteSession session, string queryType, EndUser? user, string queryId, string ccdlJson,
        Func<CohortQuery, PatientSet, int, (TReply Reply, string Hash, string Released)> release)
    {
        var today = Days.Today();
        var project = string.IsNullOrEmpty(user?.Project) ? null : user!.Project;
        var decision = session.Approvals.Check(queryType, project, today);
        if (!decision.Allowed)
        {
            session.Audit.Refused(user?.AuditName(), user?.Role, project, queryType, null, decision.Reason ?? "not approved", queryId);
            var trailers = new Metadata { { SiteStatusTrailer, "not_approved" } };
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"{site}: {decision.Reason}"), trailers);
        }

        CohortQuery query;
        try { query = CohortQuery.Parse(ccdlJson); }
        catch (CcdlException e)
        {
            session.Audit.Refused(user?.AuditName(), user?.Role, project, queryType, null, $"query refused at {e.JsonPath}: {e.Message}", queryId);
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"{site}: {e.Message}"));
        }

        try
        {
            var cohort = session.Evaluator.Evaluate(query, today);
            cohort.IntersectWith(session.Consent.Permitted(ConsentPolicies.Research, today));
            var (reply, hash, released) = release(query, cohort, today);
            if (!RecordUsage)
            {
                session.Audit.Answered(user?.AuditName(), user?.Role, project, queryType, hash, released, queryId);
                return reply;
            }
            // The patients actually counted (consented and matching), for their transparency report.
            // One commit with the audit entry: the ledger costs its row, not a second commit.
            SiteDatabase.Execute(session.Connection, "BEGIN IMMEDIATE");
            try
            {
                UsageLedger.Record(session.Connection, queryId, project, query.Display, queryType, hash, released, cohort);
                session.Audit.Answered(user?.AuditName(), user?.Role, project, queryType, hash, released, queryId);
                SiteDatabase.Execute(session.Connection, "COMMIT");
            }
            catch
            {
                SiteDatabase.Execute(session.Connection, "ROLLBACK");
                throw;
            }
            return reply;
        }
        catch (CcdlException e)
        {
            session.Audit.Refused(user?.AuditName(), user?.Role, project, queryType, query.CanonicalHash, $"query refused at {e.JsonPath}: {e.Message}", queryId);
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"{site}: {e.Message}"));
        }
        catch (Exception e) when (e is not RpcException)
        {
            session.Audit.Failed(user?.AuditName(), user?.Role, project, queryType, query.CanonicalHash, e.GetType().Name, queryId);
            throw;
        }
    }

    static Protos.Node.V1.ReleasedCount ToMessage(Disclosure.ReleasedCount released)
    {
        var message = new Protos.Node.V1.ReleasedCount
        {
            Obfuscated = released.Obfuscated,
            BelowThreshold = released.BelowThreshold,
            Treatment = released.Treatment,
            Threshold = released.Threshold,
        };
        if (released.Value is long value) message.Value = value;
        return message;
    }
}
