using System.Net;
using Midia.Rpc.Protocol;
using Midia.Rpc.Tls;

namespace Midia.Rpc.Server;

/// <summary>How a server listens and what it accepts. Defaults follow grpc-dotnet.</summary>
public sealed class RpcServerOptions
{
    /// <summary>The endpoint; port 0 picks a free port (see <see cref="RpcServer.Address"/>).</summary>
    public required IPEndPoint Listen { get; init; }
    /// <summary>This server's certificate and the network CA; clients must present a certificate it accepts.</summary>
    public required TlsMaterial Tls { get; init; }
    /// <summary>Largest incoming message (after decompression); larger is RESOURCE_EXHAUSTED. 4 MiB.</summary>
    public int MaxReceiveMessageSize { get; init; } = MessageFraming.DefaultMaxReceiveMessageSize;
    /// <summary>Largest outgoing message; null = unlimited.</summary>
    public int? MaxSendMessageSize { get; init; }
    /// <summary>Compress responses with this encoding when the client accepts it ("gzip"); null = never unless a handler asks.</summary>
    public string? ResponseCompressionAlgorithm { get; init; }
    public int MaxStreamsPerConnection { get; init; } = 1000;
    public int InitialStreamWindowSize { get; init; } = 1024 * 1024;
    public int InitialConnectionWindowSize { get; init; } = 2 * 1024 * 1024;
    /// <summary>How long Stop waits for running calls before cutting them off (below System.CommandLine's 2 s Ctrl-C grace).</summary>
    /// <summary>Whom a front end may act for (end-user metadata); null refuses every call that carries it.</summary>
    public Authorization.Delegation? Delegation { get; init; } = Authorization.Delegation.Portal;
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(1.5);
}
