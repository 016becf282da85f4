using Midia.Node.Store;
using Midia.Trust;

namespace Midia.Node.Audit;

/// <summary>A call the authorization rules refused is a request too: it goes into the audit, with who asked and why not.</summary>
public sealed class AuditedRefusals(SiteSessions sessions) : IRefusalRecorder
{
    public Task RecordAsync(string method, PeerIdentity? caller, string reason, CancellationToken cancellationToken) =>
        sessions.RunAsync(session =>
        {
            // "/midia.node.v1.SiteNode/CohortCount" -> "rpc SiteNode/CohortCount": not a query type, so never mistaken for one.
            var rpc = "rpc " + method.TrimStart('/').Split('.').Last();
            session.Audit.Refused(caller?.AuditName, caller?.Role, null, rpc, null, "not authorized: " + reason);
            return 0;
        }, cancellationToken);
}
