using Midia.Rpc.Core;

namespace Midia.Rpc.Client;

/// <summary>
/// Per-call options (as Grpc.Core.CallOptions). Deadline is UTC; the header
/// "grpc-internal-encoding-request: gzip" compresses the request messages (grpc-dotnet convention).
/// </summary>
public readonly record struct CallOptions(
    Metadata? Headers = null,
    DateTime? Deadline = null,
    CancellationToken CancellationToken = default,
    WriteOptions? WriteOptions = null);
