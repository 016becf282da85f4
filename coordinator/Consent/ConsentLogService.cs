using Midia.Protos.Consent.V1;
using Midia.Rpc.Authorization;
using Midia.Rpc.Core;

namespace Midia.Coordinator.Consent;

/// <summary>
/// midia.consent.v1.ConsentLog: nodes submit the changes made at their desks (each stored once,
/// its seq returned only after it is durable) and pull what they missed. Only nodes call it, and a
/// node submits only for its own site.
/// </summary>
[RequireRole("node")]
public sealed class ConsentLogService(ConsentLogStore store, ConsentDistributor distributor)
{
    const int MaxPull = 1000;

    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor => ConsentReflection.Descriptor.Services.Single(s => s.Name == "ConsentLog");

    public Task<SubmitReply> Submit(SubmitRequest request, ServerCallContext context)
    {
        var change = request.Change ?? throw new RpcException(StatusCode.InvalidArgument, "change is missing");
        var site = context.AuthenticatedPeer.Site;
        if (string.IsNullOrEmpty(site)) throw new RpcException(StatusCode.PermissionDenied, "the node certificate names no site");
        if (change.OriginSite != site) throw new RpcException(StatusCode.PermissionDenied, $"a node of site '{site}' submits only its own site's changes, not '{change.OriginSite}'s");
        if (change.OriginChangeId <= 0) throw new RpcException(StatusCode.InvalidArgument, "change.origin_change_id must be positive");
        if (change.Linkage.Length is 0 or > 128) throw new RpcException(StatusCode.InvalidArgument, "change.linkage must be a pseudonym of 1..128 characters");
        if (change.Policy.Length is 0 or > 128) throw new RpcException(StatusCode.InvalidArgument, "change.policy must be a policy code");
        if (change.HasFromDay && change.HasToDay && change.ToDay < change.FromDay) throw new RpcException(StatusCode.InvalidArgument, "change.to_day is before change.from_day");
        var submitted = change.Clone();
        submitted.Seq = 0;
        var (seq, duplicate) = store.Append(submitted);
        if (!duplicate) distributor.Notify();
        return Task.FromResult(new SubmitReply { Seq = seq, Duplicate = duplicate });
    }

    public Task<PullReply> Pull(PullRequest request, ServerCallContext context)
    {
        var limit = request.Limit is > 0 and <= MaxPull ? request.Limit : MaxPull;
        var reply = new PullReply { LastSeq = store.LastSeq };
        reply.Changes.AddRange(store.After(Math.Max(0, request.AfterSeq), limit));
        return Task.FromResult(reply);
    }
}
