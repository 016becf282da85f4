namespace Midia.Rpc.Core;

/// <summary>
/// A call ended with a non-OK status. Handlers throw it to answer with that status (and optional
/// trailers); clients receive it when a call fails. Every other exception a handler throws becomes
/// UNKNOWN without details, so internals never leak to the caller.
/// </summary>
public class RpcException(Status status, Metadata? trailers, string? message = null)
    : Exception(message ?? status.ToString())
{
    public RpcException(Status status) : this(status, null) { }
    public RpcException(StatusCode code, string detail) : this(new Status(code, detail), null) { }

    public Status Status { get; } = status;
    public StatusCode StatusCode => Status.StatusCode;
    public Metadata Trailers { get; } = trailers ?? [];
}
