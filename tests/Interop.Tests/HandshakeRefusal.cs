using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Midia.Interop.Tests;

/// <summary>
/// "Refused at the handshake", made precise: an accepted TLS client receives the server's HTTP/2
/// preface (a SETTINGS frame) right after the handshake; a refused one gets a TLS alert or a
/// closed connection and not one HTTP/2 byte.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class HandshakeRefusal(InteropFixture fixture)
{
    [Fact]
    public async Task ANetworkCertificateGetsTheHttp2Preface() =>
        Assert.True(await ReceivesHttp2Preface(Load(fixture.Pki.ClientCertPath, fixture.Pki.ClientKeyPath)));

    [Fact]
    public async Task ACertificateFromAnotherCaGetsNoHttp2Byte() =>
        Assert.False(await ReceivesHttp2Preface(Load(fixture.Pki.StrangerCertPath, fixture.Pki.StrangerKeyPath)));

    [Fact]
    public async Task NoCertificateGetsNoHttp2Byte() =>
        Assert.False(await ReceivesHttp2Preface(null));

    static X509Certificate2 Load(string cert, string key)
    {
        using var pem = X509Certificate2.CreateFromPemFile(cert, key);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    async Task<bool> ReceivesHttp2Preface(X509Certificate2? clientCertificate)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", fixture.Host.Port);
        await using var tls = new SslStream(tcp.GetStream());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = Pki.ThrowAwayPki.ServerName,
                ApplicationProtocols = [SslApplicationProtocol.Http2],
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
                LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate!,
                RemoteCertificateValidationCallback = (_, _, _, _) => true, // the server's side is under test here
            }, timeout.Token);
            // The client preface; the server answers with its SETTINGS frame (type 0x4) once it accepted us.
            await tls.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(), timeout.Token);
            await tls.WriteAsync(new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0 }, timeout.Token);
            var header = new byte[9];
            await tls.ReadExactlyAsync(header, timeout.Token);
            return header[3] == 4;
        }
        catch (Exception e) when (e is AuthenticationException or IOException or EndOfStreamException)
        {
            return false;
        }
        finally
        {
            clientCertificate?.Dispose();
        }
    }
}
