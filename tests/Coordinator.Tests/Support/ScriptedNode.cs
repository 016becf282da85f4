using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Midia.Protos.Node.V1;
using Midia.Trust;

namespace Midia.Coordinator.Tests.Support;

/// <summary>
/// A real SiteNode server on 127.0.0.1 (the network server every node runs: Kestrel, mutual TLS,
/// authorization) whose answers a test scripts: a value, a hang, a refusal, an UNAVAILABLE... It is
/// a real peer on the wire, dialled by address like a node; only its engine is a script, because
/// the coordinator's behaviour is what these tests are about.
/// </summary>
public sealed class ScriptedNode : IAsyncDisposable
{
    WebApplication? server;
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

    /// <summary>Starts (or restarts, on the same port) the node's server.</summary>
    public async Task StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "scripted-node-" + Site });
        // No grace for running calls: a kill cuts them off.
        builder.AddNetworkServer(new NetworkServerOptions { Listen = new IPEndPoint(IPAddress.Loopback, port), Tls = Tls, Site = Site, ShutdownTimeout = TimeSpan.Zero });
        builder.Services.AddSingleton(new Script(this));
        var app = builder.Build();
        app.UseNetworkServer();
        app.MapNetworkService<Script>();
        try { Port = (await app.StartNetworkServerAsync()).Port; }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        server = app;
    }

    /// <summary>Kills the server: running calls are cut off, the port refuses connections.</summary>
    public async Task KillAsync()
    {
        if (server is not { } app) return;
        server = null;
        await app.StopAsync();
        await app.DisposeAsync();
    }

    public ValueTask DisposeAsync() => new(KillAsync());

    /// <summary>The SiteNode service, as a node's: only the coordinator may ask; each call counted, then the script answers.</summary>
    [RequireRole("coordinator")]
    sealed class Script(ScriptedNode node) : SiteNode.SiteNodeBase
    {
        public override async Task<CohortCountReply> CohortCount(CohortCountRequest request, ServerCallContext context)
        {
            Interlocked.Increment(ref node.calls);
            node.LastRequest = request;
            return await node.Behaviour(request, context);
        }

        public override async Task<StratifiedCountReply> StratifiedCount(StratifiedCountRequest request, ServerCallContext context)
        {
            Interlocked.Increment(ref node.calls);
            return node.Stratified is null ? throw new RpcException(new Status(StatusCode.Unimplemented, "no script")) : await node.Stratified(request, context);
        }
    }
}
