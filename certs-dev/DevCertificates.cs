using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Midia.Trust;

namespace Midia.CertsDev;

/// <summary>
/// A development CA and certificates for every role of the network (ECDSA P-256). The role is
/// the subject OU and the site a SAN URI, which is how <see cref="PeerIdentity"/> reads them.
/// Never for production: the CA key sits next to the certificates.
/// </summary>
public static class DevCertificates
{
    public static readonly IReadOnlyList<string> Roles = ["node", "coordinator", "researcher", "clinician", "site-admin", "portal"];

    public static X509Certificate2 CreateAuthority(string name = "Midia Federated Dev CA", DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}, O=Midia Federated (development only)", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        // Back-dated a year so tests can issue certificates that have already expired.
        return request.CreateSelfSigned(notBefore ?? DateTimeOffset.UtcNow.AddYears(-1), notAfter ?? DateTimeOffset.UtcNow.AddYears(5));
    }

    /// <summary>Issues a certificate for a role. Nodes and the coordinator serve and call, so they get both TLS usages.</summary>
    public static X509Certificate2 Issue(X509Certificate2 authority, string role, string name, string? site = null,
        IEnumerable<string>? dnsNames = null, IEnumerable<IPAddress>? ipAddresses = null,
        DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        if (name.IndexOfAny([',', '=', '+', '"', '\\', '<', '>', ';']) >= 0) throw new ArgumentException($"name '{name}' must not contain , = + \" \\ < > ;");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}, OU={role}, O=Midia Federated (development only)", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        // A portal also serves browsers over HTTPS, so it carries both usages like the servers.
        var serves = role is "node" or "coordinator" or "portal";
        var usages = new OidCollection { new Oid("1.3.6.1.5.5.7.3.2") };
        if (serves || dnsNames is not null) usages.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));

        var san = new SubjectAlternativeNameBuilder();
        if (site is not null) san.AddUri(new Uri(PeerIdentity.SiteUriPrefix + site));
        foreach (var dns in dnsNames ?? (serves ? ["localhost"] : [])) san.AddDnsName(dns);
        foreach (var ip in ipAddresses ?? (serves ? [IPAddress.Loopback, IPAddress.IPv6Loopback] : [])) san.AddIpAddress(ip);
        request.CertificateExtensions.Add(san.Build());

        var from = notBefore ?? DateTimeOffset.UtcNow.AddDays(-1);
        var until = notAfter ?? DateTimeOffset.UtcNow.AddYears(2);
        if (until > authority.NotAfter) until = authority.NotAfter;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = request.Create(authority, from, until, serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Writes PREFIX-style PEM files; the key is readable by its owner only.</summary>
    public static void WritePem(X509Certificate2 certificate, string certPath, string keyPath)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(certPath));
        if (directory is not null) Directory.CreateDirectory(directory);
        File.WriteAllText(certPath, certificate.ExportCertificatePem() + "\n");
        WriteSecret(keyPath, (certificate.GetECDsaPrivateKey()?.ExportPkcs8PrivateKeyPem()
            ?? certificate.GetRSAPrivateKey()?.ExportPkcs8PrivateKeyPem()
            ?? throw new ArgumentException("certificate has no private key")) + "\n");
    }

    /// <summary>Creates a file that only its owner can read before any secret goes into it.</summary>
    public static void WriteSecret(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream)) writer.Write(content);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public static X509Certificate2 LoadAuthority(string directory)
    {
        var cert = Path.Combine(directory, "ca.crt");
        var key = Path.Combine(directory, "ca.key");
        if (!File.Exists(cert) || !File.Exists(key)) throw new TlsMaterialException($"'{directory}' holds no dev CA (ca.crt and ca.key); make one with `midia dev certs`");
        return X509Certificate2.CreateFromPemFile(cert, key);
    }

    /// <summary>
    /// Everything a local network needs in one folder: ca.crt/ca.key, coordinator, node-SITE for
    /// each site, one user of each role (researcher; clinician-SITE and site-admin-SITE per site), the
    /// site's web portal (portal-SITE)
    /// and the sites' shared linkage key.
    /// </summary>
    public static IReadOnlyList<string> CreateNetwork(string outDir, IReadOnlyList<string> sites)
    {
        Directory.CreateDirectory(outDir);
        var written = new List<string>();
        using var ca = CreateAuthority();
        Write(ca, "ca");
        Write(Issue(ca, "coordinator", "coordinator"), "coordinator");
        Write(Issue(ca, "researcher", "researcher"), "researcher");
        foreach (var site in sites)
        {
            Write(Issue(ca, "node", $"node-{site}", site), $"node-{site}");
            Write(Issue(ca, "clinician", $"clinician-{site}", site), $"clinician-{site}");
            Write(Issue(ca, "site-admin", $"site-admin-{site}", site), $"site-admin-{site}");
            Write(Issue(ca, "portal", $"portal-{site}", site), $"portal-{site}");
        }
        var linkage = Path.Combine(outDir, "linkage.key");
        WriteSecret(linkage, Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant() + "\n");
        written.Add(linkage);
        return written;

        void Write(X509Certificate2 certificate, string prefix)
        {
            WritePem(certificate, Path.Combine(outDir, prefix + ".crt"), Path.Combine(outDir, prefix + ".key"));
            written.Add(Path.Combine(outDir, prefix + ".crt"));
        }
    }
}
