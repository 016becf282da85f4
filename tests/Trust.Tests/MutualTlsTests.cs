using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Midia.CertsDev;
using Midia.Hosting;
using Midia.Testing;
using Midia.Trust.Tests.Probe;
using Midia.Trust.Tests.Support;

namespace Midia.Trust.Tests;

/// <summary>
/// Where the socket is the point: the network server on Kestrel over mutual TLS on 127.0.0.1, and
/// trust/'s NetworkChannel dialling it. A client certificate the network CA did not issue, an
/// expired one, or none is refused in the handshake (and the server's log says why); the channel
/// refuses a server whose certificate names another host, role or site, and its UNAVAILABLE says why.
/// </summary>
public sealed class MutualTlsTests : IAsyncLifetime
{
    readonly TestCertificates certificates = new("Trust Tests CA");
    readonly RecordingLoggerProvider log = new();
    WebApplication server = null!;
    Uri address = null!;

    public async Task InitializeAsync()
    {
        server = ProbeServers.Create(ProbeServers.Options(certificates.Material("node", "node-munich", "munich"), "munich"), inMemory: false, log);
        address = await server.StartNetworkServerAsync();
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        certificates.Dispose();
    }

    static Probe.Probe.ProbeClient Client(NetworkChannel channel) => new(channel.Invoker);

    /// <summary>A certificate made outside TestCertificates (another CA, other dates, other names), trusting the network CA.</summary>
    TlsMaterial Material(X509Certificate2 certificate) =>
        new(certificate, [X509CertificateLoader.LoadCertificate(certificates.Authority.RawData)]);

    [Fact]
    public async Task AClientOfTheNetworkCaIsServedAndTheChannelAcceptsTheServerItPins()
    {
        using var channel = NetworkChannel.Open(address, certificates.Material("coordinator", "coordinator"), new ServerPin("node", "munich"));
        Assert.Equal(new WhoReply { Name = "coordinator", Role = "coordinator" }, await Client(channel).CoordinatorOnlyAsync(new WhoRequest()));
    }

    [Fact]
    public async Task AServerOfAnotherSiteIsRefusedByThePinAndTheUnavailableSaysWhy()
    {
        using var channel = NetworkChannel.Open(address, certificates.Material("coordinator", "coordinator"), new ServerPin("node", "erlangen"));
        var error = await Assert.ThrowsAsync<RpcException>(async () => await Client(channel).WhoAmIAsync(new WhoRequest()));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal("the server's certificate was refused: certificate 'CN=node-munich, OU=node, O=Midia Federated (development only)' is for site 'munich', not site 'erlangen'", error.Status.Detail);
        Assert.Equal(error.Status.Detail, error.Problem());
    }

    [Fact]
    public async Task AServerOfAnotherRoleIsRefusedByThePinAndTheUnavailableSaysWhy()
    {
        using var channel = NetworkChannel.Open(address, certificates.Material("node", "node-erlangen", "erlangen"), new ServerPin("coordinator"));
        // A streaming call is renamed as well as a unary one.
        using var call = Client(channel).CoordinatorStream(new WhoRequest());
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.EndsWith("is a node certificate, not a coordinator's", error.Status.Detail);
        Assert.StartsWith("the server's certificate was refused: ", error.Status.Detail);
    }

    [Fact]
    public async Task TheServerNameIsCheckedByTheChannel()
    {
        // A server of the network whose certificate names another host than the one dialled.
        using var elsewhereCertificate = DevCertificates.Issue(certificates.Authority, "node", "node-elsewhere", "elsewhere", ["elsewhere.example"], []);
        using var elsewhere = Material(elsewhereCertificate);
        await using var other = ProbeServers.Create(ProbeServers.Options(elsewhere, "elsewhere"), inMemory: false);
        var otherAddress = await other.StartNetworkServerAsync();
        using var channel = NetworkChannel.Open($"https://127.0.0.1:{otherAddress.Port}", certificates.Material("researcher", "r"));
        var error = await Assert.ThrowsAsync<RpcException>(async () => await Client(channel).WhoAmIAsync(new WhoRequest()));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("is not valid for host '127.0.0.1'", error.Status.Detail);
    }

    [Fact]
    public async Task ACertificateFromAnotherCaIsRefusedAtTheHandshake()
    {
        using var foreignCa = DevCertificates.CreateAuthority("Foreign CA");
        using var impostorCertificate = DevCertificates.Issue(foreignCa, "coordinator", "impostor");
        using var impostor = Material(impostorCertificate);
        using var channel = NetworkChannel.Open(address, impostor, new ServerPin("node", "munich"));
        var error = await Assert.ThrowsAsync<RpcException>(async () => await Client(channel).WhoAmIAsync(new WhoRequest()));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains(log.Lines, line => line.Contains("CN=impostor") && line.Contains("not issued by the network CA"));
    }

    [Fact]
    public async Task AnExpiredCertificateIsRefusedAtTheHandshake()
    {
        using var expiredCertificate = DevCertificates.Issue(certificates.Authority, "coordinator", "expired-one",
            notBefore: DateTimeOffset.UtcNow.AddDays(-10), notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        using var expired = Material(expiredCertificate);
        using var channel = NetworkChannel.Open(address, expired, new ServerPin("node", "munich"));
        var error = await Assert.ThrowsAsync<RpcException>(async () => await Client(channel).WhoAmIAsync(new WhoRequest()));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains(log.Lines, line => line.Contains("CN=expired-one") && line.Contains("expired"));
    }

    [Fact]
    public async Task NoClientCertificateIsRefusedAtTheHandshake()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, address.Port);
        using var tls = new SslStream(tcp.GetStream());
        var refused = false;
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ApplicationProtocols = [SslApplicationProtocol.Http2],
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            }).WaitAsync(TimeSpan.FromSeconds(10));
            // TLS 1.3 reports the server's refusal on the first read, not in the handshake.
            var buffer = new byte[64];
            await tls.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
            refused = await tls.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10)) == 0;
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            refused = true;
        }
        Assert.True(refused);
    }

    [Fact]
    public async Task NothingListeningIsAConnectionRefusedNamedInPlainWords()
    {
        // A port that was just free: bound, then released.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var channel = NetworkChannel.Open($"https://127.0.0.1:{port}", certificates.Material("researcher", "r"));
        var error = await Assert.ThrowsAsync<RpcException>(async () => await Client(channel).WhoAmIAsync(new WhoRequest()));
        Assert.True(error.IsConnectionRefused(), error.ToString());
        Assert.Contains("refused", error.Problem(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task AServerCannotStartOnAnAddressInUseAndSaysSo()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            await using var second = ProbeServers.Create(ProbeServers.Options(certificates.Material("node", "node-munich", "munich"), "munich", port), inMemory: false);
            var error = await Assert.ThrowsAsync<CommandException>(() => second.StartNetworkServerAsync());
            Assert.Equal($"cannot listen on 127.0.0.1:{port}: the address is already in use", error.Message);
        }
        finally
        {
            listener.Stop();
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:1")]
    [InlineData("ftp://127.0.0.1:1")]
    [InlineData("not an address at all")]
    public void AChannelNeedsAnHttpsAddress(string address)
    {
        var error = Assert.Throws<ArgumentException>(() => NetworkChannel.Open(address, certificates.Material("researcher", "r")));
        Assert.Contains("must be https://HOST:PORT", error.Message);
    }
}
