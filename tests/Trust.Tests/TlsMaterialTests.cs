using System.Security.Cryptography.X509Certificates;
using Midia.CertsDev;

namespace Midia.Trust.Tests;

/// <summary>The one certificate loader and the one judge of a peer's certificate: every refusal names the file or the certificate and the problem.</summary>
public sealed class TlsMaterialTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("midia-tls-").FullName;
    readonly X509Certificate2 ca = DevCertificates.CreateAuthority();

    public void Dispose()
    {
        ca.Dispose();
        Directory.Delete(dir, recursive: true);
    }

    (string cert, string key, string caFile) Files(X509Certificate2 certificate, string prefix)
    {
        DevCertificates.WritePem(certificate, Path.Combine(dir, prefix + ".crt"), Path.Combine(dir, prefix + ".key"));
        var caFile = Path.Combine(dir, "ca.crt");
        File.WriteAllText(caFile, ca.ExportCertificatePem());
        return (Path.Combine(dir, prefix + ".crt"), Path.Combine(dir, prefix + ".key"), caFile);
    }

    [Fact]
    public void LoadsPemFilesAndKnowsItsOwnIdentity()
    {
        var (cert, key, caFile) = Files(DevCertificates.Issue(ca, "coordinator", "coordinator"), "coordinator");
        using var material = TlsMaterial.Load(cert, key, caFile);
        Assert.True(material.Certificate.HasPrivateKey);
        Assert.Equal("coordinator", material.Identity.Role);
    }

    [Fact]
    public void MissingFilesAreNamedInTheError()
    {
        var (cert, key, caFile) = Files(DevCertificates.Issue(ca, "node", "n", "s"), "n");
        var e = Assert.Throws<TlsMaterialException>(() => TlsMaterial.Load(cert, key + ".missing", caFile));
        Assert.Contains(key + ".missing", e.Message);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void AKeyThatOthersCanReadIsRefused()
    {
        if (OperatingSystem.IsWindows()) return; // file modes are a Unix matter
        var (cert, key, caFile) = Files(DevCertificates.Issue(ca, "node", "n", "s"), "n");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var e = Assert.Throws<TlsMaterialException>(() => TlsMaterial.Load(cert, key, caFile));
        Assert.Contains("readable by other users", e.Message);
    }

    [Fact]
    public void AKeyOfAnotherCertificateIsRefused()
    {
        var (cert, _, caFile) = Files(DevCertificates.Issue(ca, "node", "a", "s"), "a");
        var (_, otherKey, _) = Files(DevCertificates.Issue(ca, "node", "b", "s"), "b");
        var e = Assert.Throws<TlsMaterialException>(() => TlsMaterial.Load(cert, otherKey, caFile));
        Assert.Contains(cert, e.Message);
    }

    [Fact]
    public void AnOwnCertificateFromAnotherCaIsRefusedAtLoad()
    {
        using var foreign = DevCertificates.CreateAuthority("Foreign CA");
        var (cert, key, caFile) = Files(DevCertificates.Issue(foreign, "node", "n", "s"), "n");
        var e = Assert.Throws<TlsMaterialException>(() => TlsMaterial.Load(cert, key, caFile));
        Assert.Contains("not issued by the network CA", e.Message);
    }

    [Fact]
    public void PeersAreAcceptedOnlyThroughTheNetworkCaWithTheRightUsageDatesAndHost()
    {
        var (cert, key, caFile) = Files(DevCertificates.Issue(ca, "coordinator", "coordinator"), "coordinator");
        using var material = TlsMaterial.Load(cert, key, caFile);
        using var foreignCa = DevCertificates.CreateAuthority("Foreign CA");

        using var node = DevCertificates.Issue(ca, "node", "node-erlangen", "erlangen");
        Assert.True(material.ValidatePeer(node, PeerKind.Server, "localhost", out _));
        Assert.True(material.ValidatePeer(node, PeerKind.Server, "127.0.0.1", out _));
        Assert.True(material.ValidatePeer(node, PeerKind.Client, null, out _));

        Assert.False(material.ValidatePeer(node, PeerKind.Server, "evil.example", out var wrongHost));
        Assert.Contains("not valid for host", wrongHost);

        using var foreign = DevCertificates.Issue(foreignCa, "coordinator", "coordinator");
        Assert.False(material.ValidatePeer(foreign, PeerKind.Client, null, out var untrusted));
        Assert.Contains("not issued by the network CA", untrusted);

        using var expired = DevCertificates.Issue(ca, "researcher", "r", notBefore: DateTimeOffset.UtcNow.AddDays(-30), notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        Assert.False(material.ValidatePeer(expired, PeerKind.Client, null, out var old));
        Assert.Contains("expired", old);

        using var researcher = DevCertificates.Issue(ca, "researcher", "r");
        Assert.True(material.ValidatePeer(researcher, PeerKind.Client, null, out _));
        Assert.False(material.ValidatePeer(researcher, PeerKind.Server, "localhost", out var notServer));
        Assert.Contains("server authentication", notServer);

        Assert.False(material.ValidatePeer(null, PeerKind.Client, null, out var none));
        Assert.Equal("no certificate presented", none);
    }

    [Fact]
    public void AKeyItsGroupCanReadIsRefusedNamingTheFix()
    {
        if (OperatingSystem.IsWindows()) return; // file modes are a Unix matter
        var (cert, key, caFile) = Files(DevCertificates.Issue(ca, "node", "n", "s"), "n");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var e = Assert.Throws<TlsMaterialException>(() => TlsMaterial.Load(cert, key, caFile));
        Assert.Contains("mode 0640", e.Message);
        Assert.Contains($"chmod 600 '{key}'", e.Message);
    }

    [Fact]
    public void AServerIsAcceptedOnlyWithTheRoleAndSiteTheClientDials()
    {
        var (cert, key, caFile) = Files(DevCertificates.Issue(ca, "coordinator", "coordinator"), "coordinator");
        using var material = TlsMaterial.Load(cert, key, caFile);
        using var munich = DevCertificates.Issue(ca, "node", "node-munich", "munich");
        Assert.True(material.ValidatePeer(munich, PeerKind.Server, "127.0.0.1", out _, "node", "munich"));
        Assert.False(material.ValidatePeer(munich, PeerKind.Server, "127.0.0.1", out var otherSite, "node", "erlangen"));
        Assert.Contains("is for site 'munich', not site 'erlangen'", otherSite);
        Assert.False(material.ValidatePeer(munich, PeerKind.Server, "127.0.0.1", out var otherRole, "coordinator"));
        Assert.Contains("is a node certificate, not a coordinator's", otherRole);
    }
}
