using Grpc.Core;
using Midia.Trust.Tests.Probe;

namespace Midia.Trust.Tests.Support;

/// <summary>One RPC per rule; each answers with the caller the server saw.</summary>
public sealed class ProbeService : Probe.Probe.ProbeBase
{
    public const string OwnSiteRefusal = "you are a site admin of '{caller}', this server is site '{site}'";

    [AllowAnyNetworkPeer]
    public override Task<WhoReply> WhoAmI(WhoRequest request, ServerCallContext context) => Task.FromResult(Who(context));

    [RequireRole("coordinator")]
    public override Task<WhoReply> CoordinatorOnly(WhoRequest request, ServerCallContext context) => Task.FromResult(Who(context));

    [RequireRole("site-admin")]
    [RequireOwnSite(OwnSiteRefusal)]
    public override Task<WhoReply> OwnSiteAdmin(WhoRequest request, ServerCallContext context) => Task.FromResult(Who(context));

    [RequireRole("coordinator")]
    public override async Task CoordinatorStream(WhoRequest request, IServerStreamWriter<WhoReply> responseStream, ServerCallContext context)
    {
        await responseStream.WriteAsync(Who(context));
        await responseStream.WriteAsync(Who(context));
    }

    static WhoReply Who(ServerCallContext context)
    {
        var caller = context.Caller();
        return new WhoReply { Name = caller.Name, Role = caller.Role, Site = caller.Site ?? "", Via = caller.Via?.Name ?? "" };
    }
}

/// <summary>No rule at all (the fallback policy's case).</summary>
public sealed class UnruledService : Probe.Unruled.UnruledBase
{
    public override Task<WhoReply> Call(WhoRequest request, ServerCallContext context) => Task.FromResult(new WhoReply());
}
