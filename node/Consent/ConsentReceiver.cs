using Midia.Protos.Consent.V1;
using Midia.Rpc.Authorization;
using Midia.Rpc.Core;

namespace Midia.Node.Consent;

/// <summary>
/// midia.consent.v1.ConsentReceiver: the coordinator pushes logged changes here, in seq order.
/// Applying is idempotent; a gap is reported back (and makes the node pull) so nothing is skipped.
/// </summary>
[RequireRole("coordinator")]
public sealed class ConsentReceiver(NetworkConsent store, ConsentSync? sync)
{
    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor => ConsentReflection.Descriptor.Services.Single(s => s.Name == "ConsentReceiver");

    public Task<ApplyReply> Apply(ApplyRequest request, ServerCallContext context)
    {
        long applied;
        bool gap;
        try { (applied, gap) = store.Apply(request.Changes); }
        // The coordinator keeps pushing with backoff; the status says why this site is behind.
        catch (Microsoft.Data.Sqlite.SqliteException e) when (Store.StorageFault.Describe(e) is { } fault) { throw fault; }
        if (gap) sync?.RequestPull();
        return Task.FromResult(new ApplyReply { AppliedSeq = applied, Gap = gap });
    }
}
