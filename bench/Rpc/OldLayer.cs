extern alias oldrpc;
using System.Net;
using Google.Protobuf;
using Grpc.Testing;
using Midia.Trust;
using OldCallOptions = oldrpc::Midia.Rpc.Client.CallOptions;
using OldChannel = oldrpc::Midia.Rpc.Client.RpcChannel;
using OldChannelOptions = oldrpc::Midia.Rpc.Client.RpcChannelOptions;
using OldContext = oldrpc::Midia.Rpc.Core.ServerCallContext;
using OldServer = oldrpc::Midia.Rpc.Server.RpcServer;
using OldServerOptions = oldrpc::Midia.Rpc.Server.RpcServerOptions;
using OldTls = oldrpc::Midia.Rpc.Tls.TlsMaterial;

namespace Midia.Bench.Rpc;

/// <summary>
/// The project's old home-made gRPC layer (rpc/), kept only for issue 14's one before-and-after
/// run of rpc-unary (`midia-bench rpc-unary --with-old-layer`): its server with
/// grpc.testing.TestService/UnaryCall as the old interop host served it, and its client. Deleted
/// with rpc/ once the figures are in BENCHMARKS.md.
/// </summary>
sealed class OldLayer : IAsyncDisposable
{
    public const string Server = "old rpc/ server", Client = "old rpc/ client";

    readonly OldServer server;
    readonly OldTls tls;

    OldLayer(OldServer server, OldTls tls) => (this.server, this.tls) = (server, tls);

    public int Port => server.Port;

    public static async Task<OldLayer> StartAsync(TlsMaterial serverTls)
    {
        var tls = new OldTls(serverTls.Certificate, [.. serverTls.Authorities]);
        var server = new OldServer(new OldServerOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), Tls = tls }, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        server.AddService(TestReflection.Descriptor.Services.Single(s => s.Name == "TestService"), new UnaryOnly());
        await server.StartAsync();
        return new OldLayer(server, tls);
    }

    public async Task<UnaryBench.Result> ClientAsync(int calls, int warmup, int concurrency, int payload, Func<TlsMaterial> clientTls)
    {
        using var client = clientTls();
        using var tls = new OldTls(client.Certificate, [.. client.Authorities]);
        using var channel = OldChannel.ForAddress($"https://127.0.0.1:{Port}", new OldChannelOptions { Tls = tls });
        var invoker = channel.CreateCallInvoker();
        var method = oldrpc::Midia.Rpc.Client.Method<SimpleRequest, SimpleResponse>.From(TestReflection.Descriptor.Services.Single(s => s.Name == "TestService"), "UnaryCall");
        var request = new SimpleRequest { ResponseSize = payload, Payload = new Payload { Body = ByteString.CopyFrom(new byte[payload]) } };

        async Task Call()
        {
            using var call = invoker.AsyncUnaryCall(method, new OldCallOptions(Deadline: DateTime.UtcNow.AddSeconds(10)), request);
            var response = await call.ResponseAsync;
            if (response.Payload.Body.Length != payload) throw new InvalidOperationException("wrong response size");
        }

        return await UnaryBench.Measure(Client, Server, calls, warmup, concurrency, Call);
    }

    public async ValueTask DisposeAsync()
    {
        await server.DisposeAsync();
        tls.Dispose();
    }

    /// <summary>UnaryCall as the old interop TestService answered it (the other RPCs answer UNIMPLEMENTED).</summary>
    [oldrpc::Midia.Rpc.Authorization.AllowAnyAuthenticatedPeer]
    sealed class UnaryOnly
    {
        public Task<SimpleResponse> UnaryCall(SimpleRequest request, OldContext context) =>
            Task.FromResult(new SimpleResponse { Payload = new Payload { Body = ByteString.CopyFrom(new byte[request.ResponseSize]) } });
    }
}
