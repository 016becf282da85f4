using System.Net;
using Midia.CertsDev;
using Midia.Trust;

namespace Midia.Interop.Pki;

/// <summary>
/// A fresh CA with a server certificate (localhost, 127.0.0.1), a client certificate, and a
/// stranger: a client certificate from another CA. PEM files in a temp folder, so that the Python
/// and Node peers can read them; the folder goes away on Dispose.
/// </summary>
public sealed class ThrowAwayPki : IDisposable
{
    ThrowAwayPki(string directory) => Directory = directory;

    public string Directory { get; }
    public string CaPath => Path.Combine(Directory, "ca.crt");
    public string ServerCertPath => Path.Combine(Directory, "server.crt");
    public string ServerKeyPath => Path.Combine(Directory, "server.key");
    public string ClientCertPath => Path.Combine(Directory, "client.crt");
    public string ClientKeyPath => Path.Combine(Directory, "client.key");
    public string StrangerCertPath => Path.Combine(Directory, "stranger.crt");
    public string StrangerKeyPath => Path.Combine(Directory, "stranger.key");

    /// <summary>The name the server certificate is valid for.</summary>
    public const string ServerName = "localhost";

    public static ThrowAwayPki Create()
    {
        var pki = new ThrowAwayPki(System.IO.Directory.CreateTempSubdirectory("midia-interop-pki-").FullName);
        using var ca = DevCertificates.CreateAuthority("Midia Interop Test CA");
        using var other = DevCertificates.CreateAuthority("Some Other CA");
        using var server = DevCertificates.Issue(ca, "node", "interop-server", "interop", [ServerName], [IPAddress.Loopback]);
        using var client = DevCertificates.Issue(ca, "researcher", "interop-client");
        using var stranger = DevCertificates.Issue(other, "researcher", "stranger");
        File.WriteAllText(pki.CaPath, ca.ExportCertificatePem() + "\n");
        DevCertificates.WritePem(server, pki.ServerCertPath, pki.ServerKeyPath);
        DevCertificates.WritePem(client, pki.ClientCertPath, pki.ClientKeyPath);
        DevCertificates.WritePem(stranger, pki.StrangerCertPath, pki.StrangerKeyPath);
        return pki;
    }

    public TlsMaterial ServerTls() => TlsMaterial.Load(ServerCertPath, ServerKeyPath, CaPath);
    public TlsMaterial ClientTls() => TlsMaterial.Load(ClientCertPath, ClientKeyPath, CaPath);

    /// <summary>Arguments every driver takes to reach a server of this PKI over mTLS.</summary>
    public IReadOnlyList<string> DriverArguments(int port) =>
        ["--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
         "--ca", CaPath, "--cert", ClientCertPath, "--key", ClientKeyPath, "--server-name", ServerName];

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }
}
