using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Midia.CertsDev;
using Midia.Rpc.Tls;

namespace Midia.Bench;

/// <summary>What every benchmark's loopback network needs: free ports, dev certificates and a timed loop.</summary>
static class Loopback
{
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A certificate for that role from the benchmark's throw-away CA, trusting only that CA.</summary>
    public static TlsMaterial Material(X509Certificate2 authority, string role, string name, string? site = null)
    {
        using var certificate = DevCertificates.Issue(authority, role, name, site);
        return new TlsMaterial(certificate, [X509CertificateLoader.LoadCertificate(authority.RawData)]);
    }

    /// <summary>The same, disposed with the others in <paramref name="disposables"/>.</summary>
    public static TlsMaterial Material(X509Certificate2 authority, string role, string name, string? site, List<IDisposable> disposables)
    {
        var material = Material(authority, role, name, site);
        disposables.Add(material);
        return material;
    }

    /// <summary>Milliseconds per call after <paramref name="warmup"/> untimed calls (given -1, -2, …; timed calls get 0, 1, …).</summary>
    public static async Task<List<double>> TimeAsync(int iterations, int warmup, Func<int, Task> action)
    {
        for (var i = 0; i < Math.Min(warmup, iterations); i++) await action(-1 - i);
        var times = new List<double>(iterations);
        for (var i = 0; i < iterations; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await action(i);
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        return times;
    }
}
