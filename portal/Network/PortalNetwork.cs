using System.Runtime.CompilerServices;
using System.Security.Claims;
using Google.Protobuf;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;
using Midia.Portal.SignIn;
using Midia.Rpc.Authorization;
using Midia.Rpc.Client;
using Midia.Rpc.Core;
using Midia.Rpc.Tls;

namespace Midia.Portal.Network;

/// <summary>
/// The portal's two gRPC peers — the coordinator and its own site's node — over mutual TLS with
/// the portal's certificate. Every call names the signed-in person in the end-user metadata, so
/// the server applies that person's role (and audits person and portal); nothing is cached here.
/// </summary>
public sealed class PortalNetwork : IDisposable
{
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);
    readonly RpcChannel coordinator, node;
    readonly CallInvoker coordinatorCalls, nodeCalls;

    public PortalNetwork(Uri coordinatorAddress, Uri nodeAddress, TlsMaterial tls, string site)
    {
        // Pinned: the people signed in here talk to the coordinator and to this site's node, never to another holder of a network certificate.
        coordinator = RpcChannel.ForAddress(coordinatorAddress, new RpcChannelOptions { Tls = tls, ServerRole = "coordinator" });
        node = RpcChannel.ForAddress(nodeAddress, new RpcChannelOptions { Tls = tls, ServerRole = "node", ServerSite = site });
        coordinatorCalls = coordinator.CreateCallInvoker();
        nodeCalls = node.CreateCallInvoker();
    }

    public Uri CoordinatorAddress => coordinator.Address;
    public Uri NodeAddress => node.Address;

    public Task<TReply> CoordinatorAsync<TRequest, TReply>(ServiceDescriptor service, string rpc, TRequest request, ClaimsPrincipal user, CancellationToken cancellationToken)
        where TRequest : class, IMessage<TRequest> where TReply : class, IMessage<TReply> =>
        UnaryAsync<TRequest, TReply>(coordinatorCalls, service, rpc, request, user, cancellationToken);

    public Task<TReply> NodeAsync<TRequest, TReply>(ServiceDescriptor service, string rpc, TRequest request, ClaimsPrincipal user, CancellationToken cancellationToken)
        where TRequest : class, IMessage<TRequest> where TReply : class, IMessage<TReply> =>
        UnaryAsync<TRequest, TReply>(nodeCalls, service, rpc, request, user, cancellationToken);

    public async IAsyncEnumerable<TReply> CoordinatorStreamAsync<TRequest, TReply>(ServiceDescriptor service, string rpc, TRequest request, ClaimsPrincipal user,
        [EnumeratorCancellation] CancellationToken cancellationToken)
        where TRequest : class, IMessage<TRequest> where TReply : class, IMessage<TReply>
    {
        using var call = coordinatorCalls.AsyncServerStreamingCall(Method<TRequest, TReply>.From(service, rpc), Options(user, cancellationToken), request);
        while (await call.ResponseStream.MoveNext(cancellationToken)) yield return call.ResponseStream.Current;
    }

    static async Task<TReply> UnaryAsync<TRequest, TReply>(CallInvoker invoker, ServiceDescriptor service, string rpc, TRequest request, ClaimsPrincipal user, CancellationToken cancellationToken)
        where TRequest : class, IMessage<TRequest> where TReply : class, IMessage<TReply>
    {
        using var call = invoker.AsyncUnaryCall(Method<TRequest, TReply>.From(service, rpc), Options(user, cancellationToken), request);
        return await call.ResponseAsync;
    }

    static CallOptions Options(ClaimsPrincipal user, CancellationToken cancellationToken) =>
        new(Headers: [Delegation.EndUserEntry(user.Role(), user.User(), user.Site())], Deadline: DateTime.UtcNow + CallTimeout, CancellationToken: cancellationToken);

    /// <summary>What the person reads when a call failed: the server's own words where they are meant for users.</summary>
    public static string Explain(RpcException e, string peer) => e.StatusCode switch
    {
        StatusCode.Unavailable => $"{peer} is not reachable right now ({e.Status.Detail})",
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
