using Google.Protobuf.Reflection;
using Microsoft.Extensions.Logging.Abstractions;
using Midia.Rpc.Authorization;
using Midia.Rpc.Core;
using Midia.Rpc.Server;
using Midia.Rpc.Testing;
using Midia.Rpc.Tests.Proto;
using Midia.Rpc.Tests.Support;
using Midia.Rpc.Tls;

namespace Midia.Rpc.Tests.Server;

[Collection(NetworkCollection.Name)]
public sealed class AuthorizationTests(TestNetwork network)
{
    [Fact]
    public async Task TheRequiredRoleMayCall()
    {
        using var channel = network.Channel("coordinator", "coordinator");
        var reply = await channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.CoordinatorOnly, new(), new EchoRequest());
        Assert.Equal("hello coordinator", reply.Text);
    }

    [Fact]
    public async Task AnotherRoleIsDeniedWithAMessageNamingTheRequiredRole()
    {
        using var channel = network.Channel("researcher", "Dr R");
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.CoordinatorOnly, new(), new EchoRequest()));
        Assert.Equal(new Status(StatusCode.PermissionDenied, "requires role coordinator; caller has role researcher"), error.Status);
    }

    [Fact]
    public async Task ACertificateFromAnotherCaIsRefusedAtTheHandshake()
    {
        using var foreignCa = Midia.CertsDev.DevCertificates.CreateAuthority("Foreign CA");
        using var channel = Midia.Rpc.Client.RpcChannel.ForAddress(network.Server.Address,
            new Midia.Rpc.Client.RpcChannelOptions { Tls = network.Material("coordinator", "impostor", authority: foreignCa) });
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.WhoAmI, new(), new EchoRequest()));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task AnExpiredCertificateIsRefusedAtTheHandshake()
    {
        using var channel = Midia.Rpc.Client.RpcChannel.ForAddress(network.Server.Address, new Midia.Rpc.Client.RpcChannelOptions
        {
            Tls = network.Material("coordinator", "old", notBefore: DateTimeOffset.UtcNow.AddDays(-10), notAfter: DateTimeOffset.UtcNow.AddDays(-1)),
        });
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.WhoAmI, new(), new EchoRequest()));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task NoClientCertificateIsRefusedAtTheHandshake()
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, network.Server.Port);
        using var tls = new System.Net.Security.SslStream(tcp.GetStream());
        var refused = false;
        try
        {
            await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ApplicationProtocols = [System.Net.Security.SslApplicationProtocol.Http2],
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            }).WaitAsync(TimeSpan.FromSeconds(10));
            // TLS 1.3 reports the server's refusal on the first read, not in the handshake.
            var buffer = new byte[64];
            await tls.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
            refused = await tls.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10)) == 0;
        }
        catch (Exception e) when (e is System.Security.Authentication.AuthenticationException or IOException)
        {
            refused = true;
        }
        Assert.True(refused);
    }

    [Fact]
    public async Task TheServerNameIsCheckedByTheClient()
    {
        // The server certificate names localhost and the loopback addresses, not this name.
        var address = new UriBuilder(network.Server.Address) { Host = "127.0.0.2" }.Uri;
        using var channel = Midia.Rpc.Client.RpcChannel.ForAddress(address, new Midia.Rpc.Client.RpcChannelOptions { Tls = network.Material("researcher", "r") });
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.WhoAmI, new(), new EchoRequest()));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    sealed class NoRules
    {
        public Task<EchoReply> Unary(EchoRequest request, ServerCallContext context) => Task.FromResult(new EchoReply());
    }

    [AllowAnyAuthenticatedPeer]
    sealed class WrongShape
    {
        public Task<EchoReply> Unary(EchoRequest request) => Task.FromResult(new EchoReply());
    }

    static ServiceDescriptor Unruled => EchoReflection.Descriptor.Services.Single(s => s.Name == "Unruled");

    [Fact]
    public async Task AMethodWithoutAnAuthorizationRuleCannotBeBound()
    {
        await using var server = new RpcServer(new RpcServerOptions { Listen = new(System.Net.IPAddress.Loopback, 0), Tls = network.ServerTls }, NullLoggerFactory.Instance);
        var error = Assert.Throws<InvalidOperationException>(() => server.AddService(Unruled, new NoRules()));
        Assert.Contains("no authorization rule", error.Message);
    }

    [Fact]
    public async Task AMethodOfTheWrongShapeCannotBeBound()
    {
        await using var server = new RpcServer(new RpcServerOptions { Listen = new(System.Net.IPAddress.Loopback, 0), Tls = network.ServerTls }, NullLoggerFactory.Instance);
        var error = Assert.Throws<InvalidOperationException>(() => server.AddService(Unruled, new WrongShape()));
        Assert.Contains("Task<EchoReply> Unary(EchoRequest, ServerCallContext)", error.Message);
    }

    [Fact]
    public async Task TheTestCallContextCallsAServiceDirectlyAndAppliesTheRule()
    {
        var service = new EchoService();
        var researcher = TestServerCallContext.Create(new PeerIdentity("r", "researcher", null));
        var denied = Assert.Throws<RpcException>(() => researcher.Authorize(service, nameof(EchoService.CoordinatorOnly)));
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        var coordinator = TestServerCallContext.Create(new PeerIdentity("c", "coordinator", null));
        coordinator.Authorize(service, nameof(EchoService.CoordinatorOnly));
        Assert.Equal("hello coordinator", (await service.CoordinatorOnly(new EchoRequest(), coordinator)).Text);
        var writer = new TestServerStreamWriter<EchoReply>();
        await service.ServerStream(new EchoRequest { Count = 3 }, writer, coordinator);
        Assert.Equal([0, 1, 2], writer.Written.Select(r => r.Index));
    }
}
