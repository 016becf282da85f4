using System.Security.Cryptography.X509Certificates;
using Midia.CertsDev;
using Midia.Trust;

namespace Midia.Testing;

/// <summary>A throw-away network CA and certificates of any role from it, each trusting only that CA.</summary>
public sealed class TestCertificates(string name = "Midia Test CA") : IDisposable
{
    readonly List<IDisposable> issued = [];

    public X509Certificate2 Authority { get; } = DevCertificates.CreateAuthority(name);

    /// <summary>Certificate, key and CA for a party of the network, disposed with this object.</summary>
    public TlsMaterial Material(string role, string name, string? site = null)
    {
        using var certificate = DevCertificates.Issue(Authority, role, name, site);
        var material = new TlsMaterial(certificate, [X509CertificateLoader.LoadCertificate(Authority.RawData)]);
        lock (issued) issued.Add(material);
        return material;
    }

    public void Dispose()
    {
        lock (issued) foreach (var item in issued) item.Dispose();
        Authority.Dispose();
    }
}
