using Microsoft.Extensions.Logging;
using Midia.Interop.Peers;
using Midia.Interop.Pki;
using Midia.Interop.Server;
using Midia.Trust;

namespace Midia.Interop.Tests;

/// <summary>
/// One throw-away PKI and one test host (our TestService on trust/'s network server) for the whole
/// interop suite; each peer driver runs once, on first use, and every case test reads its line.
/// The peers are real processes on a 2-core machine, so the suite is one collection (no two
/// drivers at once).
/// </summary>
public sealed class InteropFixture : IAsyncLifetime
{
    static readonly TimeSpan DriverTimeout = TimeSpan.FromMinutes(3);
    readonly Lazy<DriverReport> python, node, pythonAgainstGrpcJs;
    readonly Lazy<NodeTestServer> grpcJsServer;
    TlsMaterial serverTls = null!;

    public InteropFixture()
    {
        Pki = ThrowAwayPki.Create();
        python = new(() => RunDriver(InteropPeers.PythonProblem(), InteropPeers.Python, ["interop_client.py"], InteropPeers.PythonDirectory, Host.Port));
        node = new(() => RunDriver(InteropPeers.NodeProblem(), "node", ["client.js"], InteropPeers.NodeDirectory, Host.Port));
        pythonAgainstGrpcJs = new(() => RunDriver(InteropPeers.PythonProblem(), InteropPeers.Python, ["interop_client.py"], InteropPeers.PythonDirectory, GrpcJsServer.Port));
        grpcJsServer = new(() => NodeTestServer.Start(Pki));
    }

    public ThrowAwayPki Pki { get; }
    public InteropTestHost Host { get; private set; } = null!;

    /// <summary>The grpcio driver's run of every case against our server.</summary>
    public DriverReport Python => python.Value;
    /// <summary>The grpc-js driver's run of every case against our server.</summary>
    public DriverReport Node => node.Value;
    /// <summary>The grpcio driver against the grpc-js server: the drivers' own baseline, without our code.</summary>
    public DriverReport PythonAgainstGrpcJs => pythonAgainstGrpcJs.Value;
    /// <summary>tests/Interop/node/server.js, started on first use.</summary>
    public NodeTestServer GrpcJsServer => grpcJsServer.Value;

    public async Task InitializeAsync()
    {
        serverTls = Pki.ServerTls();
        Host = await InteropTestHost.StartAsync(serverTls, configure: b => b.Logging.ClearProviders());
    }

    DriverReport RunDriver(string? problem, string program, string[] script, string directory, int port)
    {
        // A missing peer fails every case with the install instructions; it never skips.
        if (problem is not null) throw new InvalidOperationException(problem);
        return new DriverReport(PeerProcess.Run(program, [.. script, .. Pki.DriverArguments(port)], directory, DriverTimeout));
    }

    public async Task DisposeAsync()
    {
        if (grpcJsServer.IsValueCreated) grpcJsServer.Value.Dispose();
        if (Host is not null) await Host.DisposeAsync();
        serverTls?.Dispose();
        Pki.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class InteropCollection : ICollectionFixture<InteropFixture>
{
    public const string Name = "interop";
}
