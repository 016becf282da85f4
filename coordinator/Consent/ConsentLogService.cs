using Midia.Coordinator.Sites;
using Midia.Protos.Consent.V1;
using Midia.Trust;
using Grpc.Core;

namespace Midia.Coordinator.Consent;

/// <summary>
/// midia.consent.v1.ConsentLog: nodes submit the changes made at their desks (each stored once,
/// its seq returned only after it is durable) and pull what they missed. Only nodes call it, and a
/// node submits only for its own site.
/// </summary>
[RequireRole("node")]
public sealed class ConsentLogService(ConsentLogStore store, ConsentDistributor distributor, SiteRegistry registry) : ConsentLog.ConsentLogBase
{
    const int MaxPull = 1000;

    public override Task<SubmitReply> Submit(SubmitRequest request, ServerCallContext context)
    {
        var site = context.Caller().Site;
        if (string.IsNullOrEmpty(site)) throw new RpcException(new Status(StatusCode.PermissionDenied, "the node certificate names no site"));
        if (request.Changes.Count is 0 or > MaxPull) throw new RpcException(new Status(StatusCode.InvalidArgument, $"changes: give 1..{MaxPull} changes"));
        var changes = new List<ConsentChange>(request.Changes.Count);
        // All or nothing: every change is checked before any is logged.
        for (var i = 0; i < request.Changes.Count; i++)
        {
            var change = request.Changes[i];
            var at = $"changes[{i}]";
            if (change.OriginSite != site) throw new RpcException(new Status(StatusCode.PermissionDenied, $"{at}: a node of site '{site}' submits only its own site's changes, not '{change.OriginSite}'s"));
            if (change.OriginChangeId <= 0) throw new RpcException(new Status(StatusCode.InvalidArgument, $"{at}.origin_change_id must be positive"));
            if (change.Linkage.Length is 0 or > 128) throw new RpcException(new Status(StatusCode.InvalidArgument, $"{at}.linkage must be a pseudonym of 1..128 characters"));
            if (change.Policy.Length is 0 or > 128) throw new RpcException(new Status(StatusCode.InvalidArgument, $"{at}.policy must be a policy code"));
            if (change.HasFromDay && change.HasToDay && change.ToDay < change.FromDay) throw new RpcException(new Status(StatusCode.InvalidArgument, $"{at}.to_day is before from_day"));
            var submitted = change.Clone();
            submitted.Seq = 0;
            changes.Add(submitted);
        }
        var logged = store.Append(changes);
        var reply = new SubmitReply { Duplicates = logged.Count(l => l.Duplicate) };
        reply.Seqs.AddRange(logged.Select(l => l.Seq));
        if (reply.Duplicates < logged.Count) distributor.Notify();
        return Task.FromResult(reply);
    }

    public override Task<PullReply> Pull(PullRequest request, ServerCallContext context)
    {
        var limit = request.Limit is > 0 and <= MaxPull ? request.Limit : MaxPull;
        var reply = new PullReply { LastSeq = store.LastSeq };
        reply.Changes.AddRange(store.After(Math.Max(0, request.AfterSeq), limit));
        return Task.FromResult(reply);
    }

    public override Task<AppliedReply> Applied(AppliedRequest request, ServerCallContext context)
    {
        if (request.Seq <= 0) throw new RpcException(new Status(StatusCode.InvalidArgument, "seq must be positive"));
        if (request.Seq > store.LastSeq) throw new RpcException(new Status(StatusCode.NotFound, $"seq {request.Seq} is not in the log (last is {store.LastSeq})"));
        var reply = new AppliedReply();
        foreach (var site in registry.Sites)
        {
            var acknowledged = distributor.AppliedSequence(site.Id);
            // The step table knows when; a site acknowledged before the table existed shows applied without a time.
            var at = acknowledged >= request.Seq ? store.AppliedAt(site.Id, request.Seq) ?? "" : "";
            reply.Sites.Add(new SiteApplied { Site = site.Id, Applied = acknowledged >= request.Seq, AppliedAt = at, AcknowledgedSeq = acknowledged });
        }
        return Task.FromResult(reply);
    }
}
