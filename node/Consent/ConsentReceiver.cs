using Midia.Protos.Consent.V1;
using Midia.Trust;
using Grpc.Core;

namespace Midia.Node.Consent;

/// <summary>
/// midia.consent.v1.ConsentReceiver: the coordinator pushes logged changes here, in seq order.
/// Applying is idempotent; a gap is reported back (and makes the node pull) so nothing is skipped.
/// </summary>
[RequireRole("coordinator")]
public sealed class ConsentReceiver(NetworkConsent store, ConsentSync sync) : Protos.Consent.V1.ConsentReceiver.ConsentReceiverBase
{
    // A storage fault becomes its status (StorageFaults): the coordinator keeps pushing with backoff and sees why this site is behind.
    public override Task<ApplyReply> Apply(ApplyRequest request, ServerCallContext context)
    {
        var (applied, gap) = store.Apply(request.Changes);
        if (gap) sync.RequestPull();
        return Task.FromResult(new ApplyReply { AppliedSeq = applied, Gap = gap });
    }
}
