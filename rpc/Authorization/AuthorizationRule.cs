using System.Reflection;
using Midia.Rpc.Tls;

namespace Midia.Rpc.Authorization;

/// <summary>Who may call one RPC, read once from its attributes when the service is bound.</summary>
public sealed class AuthorizationRule
{
    readonly IReadOnlyList<string>? roles;

    AuthorizationRule(IReadOnlyList<string>? roles) => this.roles = roles;

    public static readonly AuthorizationRule AnyAuthenticatedPeer = new(null);
    public static AuthorizationRule RequireRole(params string[] roles) => new(roles);

    public bool AllowsAnyPeer => roles is null;

    /// <summary>The method's own rule, else its class's; none at all is a programming error.</summary>
    public static AuthorizationRule For(MethodInfo method, string rpcName)
    {
        if (FromAttributes(method) is { } own) return own;
        if (method.DeclaringType is { } type && FromAttributes(type) is { } inherited) return inherited;
        throw new InvalidOperationException(
            $"{method.DeclaringType?.Name}.{method.Name} (rpc {rpcName}) has no authorization rule: add [RequireRole(\"...\")] or [AllowAnyAuthenticatedPeer] to the method or its class");
    }

    static AuthorizationRule? FromAttributes(MemberInfo member)
    {
        var require = member.GetCustomAttribute<RequireRoleAttribute>();
        var any = member.GetCustomAttribute<AllowAnyAuthenticatedPeerAttribute>();
        if (require is not null && any is not null)
            throw new InvalidOperationException($"{member.Name} has both [RequireRole] and [AllowAnyAuthenticatedPeer]; keep one");
        return require is not null ? new AuthorizationRule(require.Roles) : any is not null ? AnyAuthenticatedPeer : null;
    }

    /// <summary>Null when the peer may call; otherwise the PERMISSION_DENIED message, naming the required role.</summary>
    public string? Deny(PeerIdentity peer)
    {
        if (roles is null) return null;
        foreach (var role in roles)
            if (string.Equals(role, peer.Role, StringComparison.Ordinal)) return null;
        var required = string.Join(" or ", roles);
        var has = string.IsNullOrEmpty(peer.Role) ? "no role" : $"role {peer.Role}";
        return $"requires role {required}; caller has {has}";
    }

    public override string ToString() => roles is null ? "any authenticated peer" : "role " + string.Join(" or ", roles);
}
