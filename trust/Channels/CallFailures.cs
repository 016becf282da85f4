using System.Net.Sockets;
using Grpc.Core;

namespace Midia.Trust;

/// <summary>What a failed call's status means for the person reading it: grpc-dotnet's UNAVAILABLE keeps the cause in its debug exception.</summary>
public static class CallFailures
{
    /// <summary>Nothing listens at the address (the server is not running).</summary>
    public static bool IsConnectionRefused(this RpcException e) =>
        e.StatusCode == StatusCode.Unavailable && Causes(e).Any(c => c is SocketException { SocketErrorCode: SocketError.ConnectionRefused });

    /// <summary>The status detail, or for UNAVAILABLE the innermost cause in plain words ("Connection refused (127.0.0.1:7100)").</summary>
    public static string Problem(this RpcException e)
    {
        if (e.StatusCode != StatusCode.Unavailable || e.Status.DebugException is null) return e.Status.Detail;
        var cause = Causes(e).LastOrDefault(c => c is SocketException or System.Security.Authentication.AuthenticationException or IOException);
        return cause is null || e.Status.Detail.StartsWith("the server's certificate", StringComparison.Ordinal) ? e.Status.Detail : cause.Message;
    }

    static IEnumerable<Exception> Causes(RpcException e)
    {
        for (var cause = e.Status.DebugException; cause is not null; cause = cause.InnerException) yield return cause;
    }
}
