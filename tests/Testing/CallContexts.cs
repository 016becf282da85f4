using Grpc.Core;
using Grpc.Core.Testing;
using Microsoft.AspNetCore.Http;
using Midia.Trust;

namespace Midia.Testing;

/// <summary>
/// A call context for calling a service method directly (grpc-dotnet's Tester example): Grpc.Core.Testing's
/// <see cref="TestServerCallContext"/> with the HttpContext a real call has, whose principal is
/// the caller — so <c>context.Caller()</c> sees exactly what authentication and delegation would give.
/// </summary>
public static class CallContexts
{
    public static ServerCallContext For(PeerIdentity caller, CancellationToken cancellationToken = default, Metadata? headers = null, string method = "/test/Call")
    {
        var context = TestServerCallContext.Create(method, "localhost", DateTime.UtcNow.AddMinutes(1), headers ?? [], cancellationToken,
            "ipv4:127.0.0.1:1", null, null, _ => Task.CompletedTask, () => new WriteOptions(), _ => { });
        // grpc-dotnet's GetHttpContext() reads it from here.
        context.UserState["__HttpContext"] = new DefaultHttpContext { User = caller.ToPrincipal(NetworkAuthentication.Scheme) };
        return context;
    }
}
