using Microsoft.Data.Sqlite;
using Midia.Node.Consent;
using Midia.Node.Import;
using Midia.Node.Linkage;
using Midia.Node.Store;
using Midia.Node.Transparency;
using Midia.Protos.Consent.V1;
using Midia.Protos.Node.V1;
using Midia.Trust;
using Grpc.Core;
using CoordinatorReportReply = Midia.Protos.Coordinator.V1.PatientReportReply;
using CoordinatorReportRequest = Midia.Protos.Coordinator.V1.PatientReportRequest;

namespace Midia.Node.Patients;

/// <summary>
/// midia.node.v1.PatientAccess: what a patient does in their home site's patient portal — read
/// and change their consent per purpose, see where a change has reached, read their transparency
/// report. Only a patient of this site, through this site's portal (delegation: the portal's
/// certificate names the patient in the end-user metadata), may call it; the KVNR or local id the
/// portal bound the account to stays on this node. A change takes exactly the path of
/// `midia-node consent set` (the outbox, submitted by ConsentSync, carried to every site by the
/// coordinator); the report is asked for exactly like `midia-node patient report`.
/// </summary>
[RequireRole("patient")]
[RequireOwnSite("the patient's home site is '{caller}': ask that site's portal")]
public sealed class PatientAccess(NodeSite node, SiteSessions sessions, LinkageKey linkage, ConsentSync sync,
    ConsentLog.ConsentLogClient consentLog, Protos.Coordinator.V1.Care.CareClient care) : Protos.Node.V1.PatientAccess.PatientAccessBase
{
    readonly string site = node.Id;

    /// <summary>The purposes a patient decides in the portal, in the order shown.</summary>
    public static readonly IReadOnlyList<(string Purpose, string Policy)> Purposes =
        [("research", ConsentPolicies.Research), ("care-sharing", ConsentPolicies.CareSharing)];

    public TimeSpan CoordinatorTimeout { get; init; } = TimeSpan.FromSeconds(20);

    public override async Task<PatientConsentReply> Consent(PatientConsentRequest request, ServerCallContext context)
    {
        var (pids, _) = await Resolve(context, request.Patient);
        var state = await sessions.RunAsync(session => Read(session, pids), context.CancellationToken);
        return await WithSpread(state, context.CancellationToken);
    }

    public override async Task<PatientConsentReply> SetConsent(SetPatientConsentRequest request, ServerCallContext context)
    {
        // Who first: a caller who may not ask learns nothing, not even that the purpose is malformed.
        var (pids, user) = await Resolve(context, request.Patient);
        var policy = Purposes.FirstOrDefault(p => p.Purpose == request.Purpose.Trim()).Policy
            ?? throw new RpcException(new Status(StatusCode.InvalidArgument, $"{site}: purpose: '{request.Purpose}' is not one of {string.Join(", ", Purposes.Select(p => p.Purpose))}"));
        var state = await sessions.RunAsync(session =>
        {
            // The same write as `consent set`: in force here at once, queued for the network.
            session.Consent.Record(pids[0], policy, request.Permit, Days.Today(), null);
            session.Audit.Answered(user.AuditName, user.Role, null, "consent-change", null,
                $"{request.Purpose} {(request.Permit ? "granted" : "revoked")} by the patient in the portal");
            return Read(session, pids);
        }, context.CancellationToken);
        sync.Wake();
        return await WithSpread(state, context.CancellationToken);
    }

    public override async Task<CoordinatorReportReply> Report(PatientAccessReportRequest request, ServerCallContext context)
    {
        var (pids, _) = await Resolve(context, request.Patient);
        var pseudonym = await sessions.RunAsync(session => Pseudonym(session.Connection, pids[0]), context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.FailedPrecondition, $"{site}: the patient has neither a KVNR nor a name and birth date: other sites cannot be asked about them"));
        try
        {
            return await care.PatientReportAsync(new CoordinatorReportRequest { Linkage = pseudonym },
                deadline: DateTime.UtcNow + CoordinatorTimeout, cancellationToken: context.CancellationToken);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"{site}: the network's coordinator cannot be reached just now; your report needs every site — try again later"));
        }
    }

    /// <summary>A patient of this site, through this site's portal (never directly), known here.</summary>
    async Task<(List<long> Pids, PeerIdentity User)> Resolve(ServerCallContext context, PatientRef? patient)
    {
        var user = context.Caller();
        // Delegation already bound a patient to the portal's own site; a patient certificate of
        // its own could name any KVNR, so only the portal (which signed the patient in) may ask.
        if (user.Via?.Role != "portal")
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"{site}: patients reach their data through their home site's portal"));
        var (kvnr, localId) = LocalPatient.Named(site,
            patient?.PatientCase == PatientRef.PatientOneofCase.Kvnr ? patient.Kvnr : null,
            patient?.PatientCase == PatientRef.PatientOneofCase.LocalId ? patient.LocalId : null,
            "patient.kvnr", "patient: give the local id or KVNR the account is bound to");
        var pids = await sessions.RunAsync(session => LocalPatient.Matching(session.Connection, kvnr, localId), context.CancellationToken);
        if (pids.Count == 0) throw new RpcException(new Status(StatusCode.NotFound, $"{site}: the account is bound to a patient this site has no record of"));
        return (pids, user);
    }

    static PatientConsentReply Read(SiteSession session, List<long> pids)
    {
        var today = Days.Today();
        var explained = pids.Select(pid => session.Consent.Explain(pid, today)).ToList();
        var reply = new PatientConsentReply();
        foreach (var (purpose, policy) in Purposes)
        {
            var states = explained.Select(e => e.Policies.First(p => p.Policy == policy)).ToList();
            var chosen = states.FirstOrDefault(p => p.PermittedToday) ?? states[0];
            var state = new PurposeConsent { Purpose = purpose, Policy = policy, Permitted = chosen.PermittedToday, Explanation = PatientReports.Explain(chosen, today) };
            if (LastChange(session.Connection, pids, policy) is { } change) state.LastChange = change;
            reply.Purposes.Add(state);
        }
        return reply;
    }

    static ConsentChangeSpread? LastChange(SqliteConnection connection, List<long> pids, string policy)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT id, permit, created, seq FROM consent_change
            WHERE policy = $policy AND pid IN ({string.Join(",", pids)}) ORDER BY id DESC LIMIT 1
            """;
        command.Parameters.AddWithValue("$policy", policy);
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return null;
        return new ConsentChangeSpread
        {
            ChangeId = reader.GetInt64(0), Permit = reader.GetInt64(1) != 0, MadeAt = reader.GetString(2), Seq = reader.IsDBNull(3) ? 0 : reader.GetInt64(3),
        };
    }

    /// <summary>Asks the coordinator where each logged change is in force; without it, says so plainly.</summary>
    async Task<PatientConsentReply> WithSpread(PatientConsentReply reply, CancellationToken cancel)
    {
        foreach (var change in reply.Purposes.Select(p => p.LastChange).Where(c => c is not null))
        {
            if (change.Seq == 0)
            {
                change.Note = $"in force at {site}; being sent to the other sites";
                continue;
            }
            try
            {
                var applied = await consentLog.AppliedAsync(new AppliedRequest { Seq = change.Seq }, deadline: DateTime.UtcNow + CoordinatorTimeout, cancellationToken: cancel);
                change.Sites.AddRange(applied.Sites);
            }
            catch (RpcException)
            {
                // The change is in force here whatever the coordinator says; where else is only unknown.
                change.Note = $"in force at {site}; the network cannot be asked just now where else it is in force";
            }
        }
        return reply;
    }

    /// <summary>The stored pseudonym, or computed as the import would.</summary>
    string? Pseudonym(SqliteConnection connection, long pid)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT linkage, kvnr, family, given, birth_date, sex FROM patient WHERE pid = $pid";
        command.Parameters.AddWithValue("$pid", pid);
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return null;
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        return Text(0) ?? LinkagePseudonym.Of(linkage, Text(1), Text(2), Text(3), reader.IsDBNull(4) ? null : reader.GetInt32(4), Text(5));
    }
}
