using Midia.Node.Audit;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Midia.Node.Care;
using Midia.Node.Consent;
using Midia.Node.Policy;
using Midia.Node.Research;
using Midia.Node.Store;
using Midia.Protos.Node.V1;
using Grpc.Core;

namespace Midia.Node.Transparency;

/// <summary>
/// The site's part of a patient's transparency report (issue 7): consent per policy today with a
/// plain explanation and its history, every access to the record, and every research query that
/// counted the patient. Found by linkage pseudonym; every local record of that person is covered.
/// Asking leaves a record_access row (purpose patient-report) and an audit entry without identifiers.
/// </summary>
public sealed class PatientReports(NodeSite node, SiteSessions sessions)
{
    readonly string site = node.Id;

    public const string SiteStatusTrailer = "midia-site-status";
    const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public Task<PatientReportReply> Report(PatientReportRequest request, ServerCallContext context)
    {
        if (string.IsNullOrWhiteSpace(request.Linkage)) throw new RpcException(new Status(StatusCode.InvalidArgument, $"{site}: linkage: missing"));
        var user = request.User ?? new EndUser();
        return sessions.RunAsync(session =>
        {
            var pids = Linked(session.Connection, request.Linkage.Trim());
            var decision = session.Approvals.Check(QueryTypes.PatientReport, null, Days.Today());
            if (!decision.Allowed)
            {
                foreach (var pid in pids) Access(session.Connection, pid, user, RecordAccessLog.Refused, "patient reports not approved at this site");
                session.Audit.Refused(user.AuditName(), user.Role, null, QueryTypes.PatientReport, null, decision.Reason ?? "not approved");
                throw new RpcException(new Status(StatusCode.PermissionDenied, $"{site}: {decision.Reason ?? $"query type {QueryTypes.PatientReport} not approved by the site admin"}"),
                    new Metadata { { SiteStatusTrailer, "not_approved" } });
            }
            if (pids.Count == 0)
            {
                session.Audit.Refused(user.AuditName(), user.Role, null, QueryTypes.PatientReport, null, "no record of the patient");
                throw new RpcException(new Status(StatusCode.NotFound, $"{site}: no record of this patient at this site"),
                    new Metadata { { SiteStatusTrailer, "not_shared" } });
            }
            var reply = Read(site, session.Connection, session.Consent, pids, Days.Today());
            var detail = Detail(reply);
            foreach (var pid in pids) Access(session.Connection, pid, user, RecordAccessLog.Released, detail);
            session.Audit.Answered(user.AuditName(), user.Role, null, QueryTypes.PatientReport, null, detail);
            return reply;
        }, context.CancellationToken);
    }

    /// <summary>The report of the given local records, read from the site database: also what `patient report` shows when the coordinator is out of reach.</summary>
    public static PatientReportReply Read(string site, SqliteConnection connection, ConsentLedger ledger, IReadOnlyList<long> pids, int today)
    {
        var reply = new PatientReportReply();
        // Several local records of one person: the consent of each, policies merged by the first record that names them.
        var explained = pids.Select(pid => ledger.Explain(pid, today)).ToList();
        foreach (var policy in explained.SelectMany(e => e.Policies).GroupBy(p => p.Policy))
        {
            var chosen = policy.FirstOrDefault(p => p.PermittedToday) ?? policy.First();
            reply.Consent.Add(new ConsentState
            {
                Policy = chosen.Policy, PolicyName = chosen.Name, Permitted = chosen.PermittedToday, Explanation = Explain(chosen, today),
            });
        }
        foreach (var provision in explained.SelectMany(e => e.Policies).SelectMany(p => p.Provisions).Distinct()
                     .OrderBy(p => p.Start ?? int.MinValue).ThenBy(p => p.Origin).ThenBy(p => p.Order))
            reply.ConsentHistory.Add(new ConsentEvent
            {
                Policy = provision.Policy,
                Permit = provision.Permit,
                From = DateFlag.Format(provision.Start) ?? "",
                To = DateFlag.Format(provision.End) ?? "",
                Source = provision.Origin switch
                {
                    ConsentOrigin.Document => $"consent document at {site}",
                    ConsentOrigin.Network => $"network change #{provision.Order}: {provision.Source}",
                    _ => $"{provision.Source.Replace("at this site", "at " + site, StringComparison.Ordinal)} (not yet confirmed by the network)",
                },
            });
        reply.Accesses.AddRange(Accesses(connection, pids));
        foreach (var use in UsageLedger.Counting(connection, pids))
            reply.Research.Add(new ResearchUse
            {
                Time = use.Time.ToString(TimeFormat, CultureInfo.InvariantCulture),
                QueryId = use.QueryId ?? "",
                Project = use.Project ?? "",
                Question = use.Question ?? "",
                QueryType = use.QueryType,
                Released = use.Released ?? "",
            });
        return reply;
    }

    /// <summary>Every local record with that pseudonym (one person may have several).</summary>
    public static List<long> Linked(SqliteConnection connection, string linkage)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT pid FROM patient WHERE linkage = $linkage ORDER BY pid";
        command.Parameters.AddWithValue("$linkage", linkage);
        var pids = new List<long>();
        using var reader = command.ExecuteReader();
        while (reader.Read()) pids.Add(reader.GetInt64(0));
        return pids;
    }

    /// <summary>Plain words for today's state: what the patient decided and until when, or that no decision means no.</summary>
    public static string Explain(PolicyConsent policy, int today)
    {
        var now = policy.Periods.FirstOrDefault(p => (p.From is null || p.From <= today) && (p.To is null || today <= p.To));
        if (now is null) return policy.PermittedToday ? "permitted" : "not permitted";
        if (now.Permitted)
            return "permitted" + (now.From is { } from ? $" since {DateFlag.Format(from)}" : "") + (now.To is { } to ? $" until {DateFlag.Format(to)}" : ", with no end date");
        var earlier = policy.Periods.LastOrDefault(p => p.Permitted && p.To is { } to && to < today);
        var later = policy.Periods.FirstOrDefault(p => p.Permitted && p.From is { } from && from > today);
        if (policy.Provisions.Count == 0) return "never asked: no decision means no";
        // ConsentLedger names the provisions that decide a period; none means the default (deny).
        var denied = !now.Because.All(b => b.StartsWith("no provision", StringComparison.Ordinal));
        if (denied)
            return (earlier is not null ? "revoked" : "denied") + (now.From is { } since ? $" on {DateFlag.Format(since)}" : "")
                + (later is not null ? $"; permitted again from {DateFlag.Format(later.From)}" : "");
        if (earlier is not null) return $"permission ended on {DateFlag.Format(earlier.To)}";
        if (later is not null) return $"not yet: permitted from {DateFlag.Format(later.From)}";
        return "never asked: no decision means no";
    }

    static List<RecordAccess> Accesses(SqliteConnection connection, IReadOnlyList<long> pids)
    {
        var accesses = new List<RecordAccess>();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT time, user_name, user_role, user_site, purpose, outcome, detail FROM record_access
            WHERE pid IN ({string.Join(",", pids.Select(p => p.ToString(CultureInfo.InvariantCulture)))}) ORDER BY time DESC, id DESC
            """;
        using var reader = command.ExecuteReader();
        string Text(int i) => reader.IsDBNull(i) ? "" : reader.GetString(i);
        while (reader.Read())
            accesses.Add(new RecordAccess { Time = Text(0), UserName = Text(1), UserRole = Text(2), UserSite = Text(3), Purpose = Text(4), Outcome = Text(5), Detail = Text(6) });
        return accesses;
    }

    static string Detail(PatientReportReply reply) =>
        $"consent {reply.Consent.Count} policies, history {reply.ConsentHistory.Count}, accesses {reply.Accesses.Count}, research uses {reply.Research.Count}";

    static void Access(SqliteConnection connection, long pid, EndUser user, string outcome, string detail) =>
        RecordAccessLog.Record(connection, pid, Blank(user.Name), Blank(user.Role), Blank(user.Site), QueryTypes.PatientReport, outcome, detail);

    static string? Blank(string? text) => string.IsNullOrEmpty(text) ? null : text;
}
