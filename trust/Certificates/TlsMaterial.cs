using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Midia.Hosting;

namespace Midia.Trust;

public enum PeerKind { Client, Server }

/// <summary>A certificate, key or CA file that cannot be used: the message names the file and the problem.</summary>
public sealed class TlsMaterialException(string message) : CommandException(message);

/// <summary>
/// The one certificate loader: this process's own certificate and key plus the network's CA
/// bundle, and the one place that decides whether a peer's certificate is acceptable. Peers are
/// trusted only through the network CA — never through the machine's store.
/// </summary>
public sealed class TlsMaterial : IDisposable
{
    const string ServerAuth = "1.3.6.1.5.5.7.3.1", ClientAuth = "1.3.6.1.5.5.7.3.2";

    public X509Certificate2 Certificate { get; }
    public X509Certificate2Collection Authorities { get; }
    public PeerIdentity Identity { get; }

    public TlsMaterial(X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        if (!certificate.HasPrivateKey) throw new TlsMaterialException($"certificate '{certificate.Subject}' has no private key");
        // Ephemeral keys (PEM files, freshly issued certificates) do not work with SslStream on
        // every platform; a PKCS#12 round trip does. The caller keeps the certificate it passed.
        Certificate = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
        Authorities = authorities;
        Identity = PeerIdentity.FromCertificate(certificate);
    }

    public static TlsMaterial Load(string certPath, string keyPath, string caPath)
    {
        RequireFile(certPath, "certificate");
        RequireFile(keyPath, "key");
        RequireFile(caPath, "CA");
        if (OwnerOnlyFile.Problem(keyPath, "key file") is { } exposed) throw new TlsMaterialException(exposed);

        var authorities = new X509Certificate2Collection();
        try { authorities.ImportFromPemFile(caPath); }
        catch (CryptographicException e) { throw new TlsMaterialException($"CA file '{caPath}' is not a PEM certificate bundle: {e.Message}"); }
        if (authorities.Count == 0) throw new TlsMaterialException($"CA file '{caPath}' holds no certificate");

        X509Certificate2 pem;
        try { pem = X509Certificate2.CreateFromPemFile(certPath, keyPath); }
        catch (CryptographicException e) { throw new TlsMaterialException($"certificate '{certPath}' with key '{keyPath}' cannot be loaded (not PEM, or the key does not belong to the certificate): {e.Message}"); }
        catch (ArgumentException e) { throw new TlsMaterialException($"certificate '{certPath}' with key '{keyPath}' cannot be loaded: {e.Message}"); }
        TlsMaterial material;
        using (pem) material = new TlsMaterial(pem, authorities);
        if (material.ChainsToAuthority(material.Certificate, null, out var problem)) return material;
        material.Dispose();
        throw new TlsMaterialException($"certificate '{certPath}' is not usable with CA '{caPath}': {problem}");
    }

    /// <summary>
    /// Decides whether a peer's certificate is acceptable: network CA, dates, key usage, host name,
    /// and — when the caller knows whom it dials — the role and site the certificate names.
    /// </summary>
    public bool ValidatePeer(X509Certificate2? peer, PeerKind kind, string? expectedHost, out string problem, string? expectedRole = null, string? expectedSite = null)
    {
        if (peer is null) { problem = "no certificate presented"; return false; }
        if (!ChainsToAuthority(peer, kind == PeerKind.Client ? ClientAuth : ServerAuth, out problem)) return false;
        var usage = peer.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault();
        if (usage is not null && (usage.KeyUsages & X509KeyUsageFlags.DigitalSignature) == 0)
        {
            problem = $"certificate '{peer.Subject}' does not allow digital signatures (key usage)";
            return false;
        }
        if (kind == PeerKind.Server && expectedHost is not null && !peer.MatchesHostname(expectedHost))
        {
            problem = $"certificate '{peer.Subject}' is not valid for host '{expectedHost}'";
            return false;
        }
        // A valid certificate of the wrong party (another site's node at this address) is refused
        // before a single byte of the request — a KVNR, a query — reaches it.
        if (expectedRole is not null || expectedSite is not null)
        {
            var identity = PeerIdentity.FromCertificate(peer);
            if (expectedRole is not null && identity.Role != expectedRole)
            {
                problem = $"certificate '{peer.Subject}' is a {(identity.Role.Length > 0 ? identity.Role : "role-less")} certificate, not a {expectedRole}'s";
                return false;
            }
            if (expectedSite is not null && identity.Site != expectedSite)
            {
                problem = $"certificate '{peer.Subject}' is for site '{identity.Site ?? "(none)"}', not site '{expectedSite}'";
                return false;
            }
        }
        problem = "";
        return true;
    }

    bool ChainsToAuthority(X509Certificate2 certificate, string? requiredUsage, out string problem)
    {
        var now = DateTime.Now;
        if (now < certificate.NotBefore) { problem = $"certificate '{certificate.Subject}' is not valid before {certificate.NotBefore:u}"; return false; }
        if (now > certificate.NotAfter) { problem = $"certificate '{certificate.Subject}' expired on {certificate.NotAfter:u}"; return false; }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (requiredUsage is not null) chain.ChainPolicy.ApplicationPolicy.Add(new Oid(requiredUsage));
        if (chain.Build(certificate)) { problem = ""; return true; }
        var reasons = chain.ChainStatus.Select(s => s.Status).Distinct().ToList();
        problem = reasons.Contains(X509ChainStatusFlags.UntrustedRoot) || reasons.Contains(X509ChainStatusFlags.PartialChain)
            ? $"certificate '{certificate.Subject}' is not issued by the network CA"
            : reasons.Contains(X509ChainStatusFlags.NotValidForUsage)
                ? $"certificate '{certificate.Subject}' is not allowed for {(requiredUsage == ClientAuth ? "client" : "server")} authentication"
                : $"certificate '{certificate.Subject}' rejected: {string.Join(", ", reasons)}";
        return false;
    }

    static void RequireFile(string path, string what)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new TlsMaterialException($"no {what} file given");
        if (!File.Exists(path)) throw new TlsMaterialException($"{what} file '{path}' not found");
    }

    public void Dispose()
    {
        Certificate.Dispose();
        foreach (var authority in Authorities) authority.Dispose();
    }
}
