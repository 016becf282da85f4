using System.Runtime.CompilerServices;
using System.Security.Claims;
using Grpc.Core;
using Midia.Portal.SignIn;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Coordinator = Midia.Protos.Coordinator.V1;
using Node = Midia.Protos.Node.V1;
using Midia.Trust;

namespace Midia.Portal.Network;

/// <summary>
/// The portal's two gRPC peers — the coordinator and its own site's node — over mutual TLS with
/// the portal's certificate, as typed clients. Every call names the signed-in person in the
/// end-user metadata (<see cref="For"/>), so the server applies that person's role (and audits
/// person and portal); a call without it is the portal's own and refused. Nothing is cached here.
/// </summary>
public sealed class PortalNetwork : IDisposable
{
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);
    readonly NetworkChannel coordinator, node;

    public PortalNetwork(Uri coordinatorAddress, Uri nodeAddress, TlsMaterial tls, string site)
    {
        // Pinned: the people signed in here talk to the coordinator and to this site's node, never to another holder of a network certificate.
        coordinator = NetworkChannel.Open(coordinatorAddress, tls, new ServerPin("coordinator"));
        node = NetworkChannel.Open(nodeAddress, tls, new ServerPin("node", site));
        Research = new Coordinator.Research.ResearchClient(coordinator.Invoker);
        Care = new Coordinator.Care.CareClient(coordinator.Invoker);
        Projects = new Coordinator.Projects.ProjectsClient(coordinator.Invoker);
        PatientCare = new Node.PatientCare.PatientCareClient(node.Invoker);
        SiteAdmin = new Node.SiteAdmin.SiteAdminClient(node.Invoker);
        PatientAccess = new Node.PatientAccess.PatientAccessClient(node.Invoker);
    }

    public Uri CoordinatorAddress => coordinator.Address;
    public Uri NodeAddress => node.Address;

    public Coordinator.Research.ResearchClient Research { get; }
    public Coordinator.Care.CareClient Care { get; }
    public Coordinator.Projects.ProjectsClient Projects { get; }
    public Node.PatientCare.PatientCareClient PatientCare { get; }
    public Node.SiteAdmin.SiteAdminClient SiteAdmin { get; }
    public Node.PatientAccess.PatientAccessClient PatientAccess { get; }

    /// <summary>A call for the signed-in person: their role, name and site in the end-user metadata, with the portal's deadline.</summary>
    public static CallOptions For(ClaimsPrincipal user, CancellationToken cancellationToken) =>
        new(headers: [Delegation.EndUserEntry(user.Role(), user.User(), user.Site())], deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellationToken);

    /// <summary>A federated count for the person, each event as the coordinator streams it.</summary>
    public async IAsyncEnumerable<CountEvent> CountAsync(CountRequest request, ClaimsPrincipal user, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var call = Research.Count(request, For(user, cancellationToken));
        while (await call.ResponseStream.MoveNext(cancellationToken)) yield return call.ResponseStream.Current;
    }

    /// <summary>What the person reads when a call failed: the server's own words where they are meant for users.</summary>
    public static string Explain(RpcException e, string peer) => e.StatusCode switch
    {
        StatusCode.Unavailable => $"{peer} is not reachable right now ({e.Problem()})",
        StatusCode.DeadlineExceeded => $"{peer} did not answer in time",
        StatusCode.Unknown or StatusCode.Internal => $"{peer} failed ({e.StatusCode})",
        _ => e.Status.Detail,
    };

    public void Dispose()
    {
        coordinator.Dispose();
        node.Dispose();
    }
}
