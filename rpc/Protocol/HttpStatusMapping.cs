using Midia.Rpc.Core;

namespace Midia.Rpc.Protocol;

/// <summary>A response without grpc-status: the HTTP status decides (PROTOCOL-HTTP2.md, "HTTP to gRPC status").</summary>
public static class HttpStatusMapping
{
    public static StatusCode ToStatusCode(int httpStatus) => httpStatus switch
    {
        400 => StatusCode.Internal,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.Unimplemented,
        429 or 502 or 503 or 504 => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };
}
