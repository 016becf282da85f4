using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using Midia.Protos.Node.V1;
using Midia.Rpc.Authorization;
using Midia.Rpc.Core;
using Midia.Rpc.Server;
using Midia.Rpc.Tls;

namespace Midia.Coordinator.Tests.Support;

/// <summary>
/// A real SiteNode server on 127.0.0.1 (our rpc layer, Kestrel, mutual TLS) whose answers a test
/// scripts: a value, a hang, a refusal, an UNAVAILABLE... It is a real peer on the wire; only its
/// engine is a script, because the coordinator's behaviour is what these tests are about.
/// </summary>
[RequireRole("coordinator")]
public sealed class ScriptedNode : IAsyncDisposable
{
    RpcServer? server;
    int calls;

    public required string Site { get; init; }
    public TlsMaterial Tls { get; init; } = null!;
    public int Port { get; private set; }
    public string Address => $"https://127.0.0.1:{Port}";
    public int Calls => Volatile.Read(ref calls);
    /// <summary>The last request the node received (to check what the coordinator asserted).</summary>
    public CohortCountRequest? LastRequest { get; private set; }

    public Func<CohortCountRequest, ServerCallContext, Task<CohortCountReply>> Behaviour { get; set; } = (_, _) => Task.FromResult(Released(0, false));
    public Func<StratifiedCountRequest, ServerCallContext, Task<StratifiedCountReply>>? Stratified { get; set; }

    public static CohortCountReply Released(long value, bool obfuscated = true) => new()
    {
        Count = new ReleasedCount { Value = value, Obfuscated = obfuscated, Treatment = obfuscated ? "discrete Laplace noise (epsilon 0.5), rounded to 10" : "exact", Threshold = 10 },
        CanonicalHash = "hash",
    };

    public static CohortCountReply BelowThreshold() => new() { Count = new ReleasedCount { BelowThreshold = true, Obfuscated = true, Threshold = 10 }, CanonicalHash = "hash" };

    public async Task<CohortCountReply> CohortCount(CohortCountRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref calls);
        LastRequest = request;
        return await Behaviour(request, context);
    }

    public async Task<StratifiedCountReply> StratifiedCount(StratifiedCountRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref calls);
        return Stratified is null ? throw new RpcException(StatusCode.Unimplemented, "no script") : await Stratified(request, context);
    }

    /// <summary>Starts (or restarts, on the same port) the node's server.</summary>
    public async Task StartAsync(int port = 0)
    {
        server = new RpcServer(new RpcServerOptions { Listen = new IPEndPoint(IPAddress.Loopback, port), Tls = Tls, ShutdownTimeout = TimeSpan.Zero }, NullLoggerFactory.Instance);
        server.AddService(NodeReflection.Descriptor.Services.Single(s => s.Name == "SiteNode"), this);
        await server.StartAsync();
        Port = server.Port;
    }

    /// <summary>Kills the server: running calls are cut off, the port refuses connections.</summary>
    public async Task KillAsync()
    {
        if (server is null) return;
        var s = server;
        server = null;
        await s.DisposeAsync();
    }

    public ValueTask DisposeAsync() => new(KillAsync());
}
