using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Midia.Trust;

/// <summary>
/// Only callers whose certificate (or, through a portal, whose signed-in person) holds one of these
/// roles may call this RPC. Several rules on one RPC (its class's and its own) must all hold.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class, AllowMultiple = true)]
public sealed class RequireRoleAttribute(params string[] roles) : AuthorizeAttribute, IAuthorizationRequirementData
{
    public IReadOnlyList<string> RoleNames { get; } = roles.Length > 0 ? roles : throw new ArgumentException("name at least one role");

    public IEnumerable<IAuthorizationRequirement> GetRequirements() => [new NetworkRoleRequirement(RoleNames)];
}

/// <summary>
/// Only a caller of this server's own site (a node's site) may call this RPC: another site's
/// clinician or admin is refused before the request is read. <see cref="Refusal"/> is the message,
/// with {site} (this server's) and {caller} (the caller's site) filled in.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
public sealed class RequireOwnSiteAttribute(string refusal) : AuthorizeAttribute, IAuthorizationRequirementData
{
    public string Refusal { get; } = refusal;

    public IEnumerable<IAuthorizationRequirement> GetRequirements() => [new OwnSiteRequirement(Refusal)];
}

/// <summary>
/// Every caller with a network certificate may call this RPC: the explicit opt-out, for health,
/// reflection and test services. Without a rule an RPC is refused (the fallback policy) and the
/// server does not start (<see cref="NetworkServer"/> checks every RPC).
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
public sealed class AllowAnyNetworkPeerAttribute : AuthorizeAttribute, IAuthorizationRequirementData
{
    public IEnumerable<IAuthorizationRequirement> GetRequirements() => [new NetworkPeerRequirement()];
}

public sealed record NetworkRoleRequirement(IReadOnlyList<string> Roles) : IAuthorizationRequirement
{
    public override string ToString() => "role " + string.Join(" or ", Roles);
}

public sealed record OwnSiteRequirement(string Refusal) : IAuthorizationRequirement;

public sealed record NetworkPeerRequirement : IAuthorizationRequirement;

/// <summary>The fallback: an RPC without a rule is refused, whoever calls.</summary>
public sealed record NoRuleRequirement : IAuthorizationRequirement;

/// <summary>A portal's end-user claim that was not allowed: every rule refuses the call with this reason.</summary>
public sealed record DelegationRefusal(string Reason);

/// <summary>The one judge of every rule above, for the caller the request's principal names.</summary>
public sealed class NetworkAuthorizationHandler(IOptions<NetworkServerOptions> server) : IAuthorizationHandler
{
    public Task HandleAsync(AuthorizationHandlerContext context)
    {
        var http = context.Resource as HttpContext;
        var refusal = http?.Features.Get<DelegationRefusal>();
        var caller = PeerIdentity.FromPrincipal(context.User);
        foreach (var requirement in context.PendingRequirements.ToList())
        {
            var problem = refusal?.Reason ?? (caller is null ? "no network certificate" : requirement switch
            {
                NetworkRoleRequirement roles => roles.Roles.Contains(caller.Role, StringComparer.Ordinal) ? null
                    : $"requires role {string.Join(" or ", roles.Roles)}; caller has {(caller.Role.Length == 0 ? "no role" : $"role {caller.Role}")}",
                OwnSiteRequirement own => caller.Site is not null && caller.Site == server.Value.Site ? null
                    : $"{server.Value.Site}: " + own.Refusal.Replace("{site}", server.Value.Site, StringComparison.Ordinal).Replace("{caller}", caller.Site ?? "(none)", StringComparison.Ordinal),
                NetworkPeerRequirement => null,
                NoRuleRequirement => "this RPC has no authorization rule",
                _ => "",
            });
            if (problem == "") continue; // someone else's requirement
            if (problem is null) context.Succeed(requirement);
            else context.Fail(new AuthorizationFailureReason(this, problem));
        }
        return Task.CompletedTask;
    }
}

/// <summary>
/// How a refused gRPC call is answered: with PERMISSION_DENIED and the rule's reason, by
/// grpc-dotnet itself — the decision is carried to <see cref="AuthorizationRefusals"/>, the first
/// interceptor of every call after <see cref="RequestIds"/>, which throws it before any service code runs. Anything that is not
/// a gRPC method gets the framework's plain 403.
/// </summary>
public sealed class GrpcAuthorizationResults : IAuthorizationMiddlewareResultHandler
{
    readonly AuthorizationMiddlewareResultHandler plain = new();

    public GrpcAuthorizationResults(IOptions<GrpcServiceOptions> grpc)
    {
        // Letting a refused call on to grpc-dotnet is safe only while the interceptor that ends it runs
        // before anything else may (only the request id is taken first).
        var order = grpc.Value.Interceptors.Select(i => i.Type).ToList();
        var at = order.IndexOf(typeof(AuthorizationRefusals));
        if (at < 0 || order.Take(at).Any(t => t != typeof(RequestIds)))
            throw new InvalidOperationException($"{nameof(AuthorizationRefusals)} must be the first gRPC interceptor (after {nameof(RequestIds)})");
    }

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Succeeded || !NetworkServer.IsGrpcMethod(context.GetEndpoint()))
            return plain.HandleAsync(next, context, policy, result);
        var reason = result.AuthorizationFailure?.FailureReasons.FirstOrDefault()?.Message ?? "no network certificate";
        context.Features.Set(new AuthorizationRefusal(result.Challenged ? StatusCode.Unauthenticated : StatusCode.PermissionDenied, reason));
        return next(context);
    }
}

public sealed record AuthorizationRefusal(StatusCode Status, string Reason);

/// <summary>Where a server keeps the calls its rules refused, beyond its log (a node: its audit).</summary>
public interface IRefusalRecorder
{
    Task RecordAsync(string method, PeerIdentity? caller, string reason, CancellationToken cancellationToken);
}

/// <summary>Ends a call the authorization rules refused, logged (and recorded) with the caller; runs before every other interceptor but <see cref="RequestIds"/>.</summary>
public sealed partial class AuthorizationRefusals(ILogger<AuthorizationRefusals> logger, IEnumerable<IRefusalRecorder> recorders) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        // The hot path (an allowed call) adds no state machine.
        var check = Check(context);
        return check.IsCompletedSuccessfully ? continuation(request, context) : Refused(check);

        static async Task<TResponse> Refused(ValueTask check)
        {
            await check.ConfigureAwait(false);
            throw new InvalidOperationException("unreachable: a refused call throws");
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await Check(context).ConfigureAwait(false);
        return await continuation(requestStream, context).ConfigureAwait(false);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await Check(context).ConfigureAwait(false);
        await continuation(request, responseStream, context).ConfigureAwait(false);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await Check(context).ConfigureAwait(false);
        await continuation(requestStream, responseStream, context).ConfigureAwait(false);
    }

    async ValueTask Check(ServerCallContext context)
    {
        if (context.GetHttpContext().Features.Get<AuthorizationRefusal>() is not { } refusal) return;
        var caller = PeerIdentity.FromPrincipal(context.GetHttpContext().User);
        Denied(logger, context.Method, caller?.ToString() ?? "(unauthenticated)", refusal.Reason);
        foreach (var recorder in recorders) await recorder.RecordAsync(context.Method, caller, refusal.Reason, context.CancellationToken).ConfigureAwait(false);
        throw new RpcException(new Status(refusal.Status, refusal.Reason));
    }

    [LoggerMessage(1, LogLevel.Information, "{Method} denied to {Caller}: {Reason}")]
    static partial void Denied(ILogger logger, string method, string caller, string reason);
}
