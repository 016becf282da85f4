namespace Midia.Rpc.Authorization;

/// <summary>
/// Only callers whose certificate carries one of these roles may call this RPC (or every RPC of
/// this service). A method's own rule replaces its class's rule.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class, Inherited = true)]
public sealed class RequireRoleAttribute(params string[] roles) : Attribute
{
    public IReadOnlyList<string> Roles { get; } = roles.Length > 0 ? roles : throw new ArgumentException("name at least one role");
}

/// <summary>
/// Every caller with a valid network certificate may call this RPC: the explicit opt-out, for
/// health, reflection and test services. Without it or a role rule, a method cannot be bound.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class, Inherited = true)]
public sealed class AllowAnyAuthenticatedPeerAttribute : Attribute;
