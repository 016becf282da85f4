using Midia.Rpc.Core;

namespace Midia.Rpc.Server;

/// <summary>The one place that turns what a handler threw into the status the caller sees.</summary>
public static class ErrorStatus
{
    public static Status From(Exception exception, bool callCancelled) => exception switch
    {
        RpcException rpc => rpc.Status,
        OperationCanceledException when callCancelled => new Status(StatusCode.Cancelled, "Call canceled."),
        // Anything else is a bug or an unexpected failure: say so, but never leak its details.
        _ => new Status(StatusCode.Unknown, "Exception was thrown by handler."),
    };
}
