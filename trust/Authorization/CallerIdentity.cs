using Grpc.Core;

namespace Midia.Trust;

public static class CallerIdentity
{
    /// <summary>
    /// Who is calling: the certificate's holder, or the person a portal acts for (with the portal
    /// as <see cref="PeerIdentity.Via"/>). Every RPC passed an authorization rule, so there is one.
    /// </summary>
    public static PeerIdentity Caller(this ServerCallContext context) =>
        PeerIdentity.FromPrincipal(context.GetHttpContext().User)
        ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "no network certificate"));
}
