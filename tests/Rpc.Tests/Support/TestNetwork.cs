using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using Midia.CertsDev;
using Midia.Rpc.Client;
using Midia.Rpc.Server;
using Midia.Rpc.Tls;
using Midia.Rpc.Tests.Proto;

namespace Midia.Rpc.Tests.Support;

/// <summary>Throw-away certificates of one dev CA, and a real Kestrel server on 127.0.0.1 with the Echo service.</summary>
public sealed class TestNetwork : IAsyncLifetime
{
    public X509Certificate2 Authority { get; } = DevCertificates.CreateAuthority("Rpc Tests CA");
    public EchoService Echo { get; } = new();
    public RpcServer Server { get; private set; } = null!;
    public TlsMaterial ServerTls { get; private set; } = null!;
    public RecordingLoggerProvider Log { get; } = new();

    public TlsMaterial Material(string role, string name, string? site = null, X509Certificate2? authority = null,
        DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, string[]? dnsNames = null, IPAddress[]? ipAddresses = null)
    {
        var issuer = authority ?? Authority;
        using var certificate = DevCertificates.Issue(issuer, role, name, site, dnsNames, ipAddresses, notBefore, notAfter);
        return new TlsMaterial(certificate, [X509CertificateLoader.LoadCertificate(Authority.RawData)]);
    }

    public async Task InitializeAsync()
    {
        ServerTls = Material("node", "node-test", "test-site");
        Server = new RpcServer(new RpcServerOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), Tls = ServerTls }, new Microsoft.Extensions.Logging.LoggerFactory([Log]));
        Server.AddService(EchoDescriptor, Echo);
        await Server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        ServerTls.Dispose();
        Authority.Dispose();
    }

    /// <summary>A channel to the test server with a fresh certificate of this role (limits taken from options, if given).</summary>
    public RpcChannel Channel(string role = "researcher", string name = "Test Researcher", string? site = null, RpcChannelOptions? options = null)
    {
        var tls = Material(role, name, site);
        return RpcChannel.ForAddress(Server.Address, options is null
            ? new RpcChannelOptions { Tls = tls }
            : new RpcChannelOptions { Tls = tls, MaxReceiveMessageSize = options.MaxReceiveMessageSize, MaxSendMessageSize = options.MaxSendMessageSize });
    }

    public static Google.Protobuf.Reflection.ServiceDescriptor EchoDescriptor => EchoReflection.Descriptor.Services.Single(s => s.Name == "Echo");
}

[CollectionDefinition(Name)]
public sealed class NetworkCollection : ICollectionFixture<TestNetwork>
{
    public const string Name = "network";
}
