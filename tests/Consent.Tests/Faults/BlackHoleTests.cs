using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text.Json;
using Midia.Consent.Tests.Support;
using Midia.Coordinator.FanOut;
using Midia.Coordinator.Quota;
using Midia.Node.Policy;
using Midia.Protos.Coordinator.V1;
using static Midia.Consent.Tests.Support.ClinicalFact;

namespace Midia.Consent.Tests.Faults;

/// <summary>
/// A site that accepts connections and then never answers — at the TCP level (the TLS handshake
/// never completes) or after a completed mutual-TLS handshake (HTTP/2 never answered). The
/// coordinator's count and summary still come back, with `timeout` for that site and ok for the
/// real nodes; nothing waits for the silent site beyond the coordinator's deadline.
/// </summary>
public sealed class BlackHoleTests : IAsyncLifetime
{
    static readonly ClinicalRecord AnnaErlangen = new("anna-e", "A123456789", "Meier", "Anna", new DateOnly(1960, 3, 1), "female", true,
        [Condition("http://fhir.de/CodeSystem/bfarm/icd-10-gm", "C50.4", "Brustkrebs", new DateOnly(2019, 3, 10))]);
    static readonly ClinicalRecord AnnaMunich = AnnaErlangen with { ResourceId = "anna-m" };

    readonly ConsentNetwork network = new("erlangen", "munich")
    {
        FanOut = new FanOutOptions { Deadline = TimeSpan.FromSeconds(3) },
        Quota = new QuotaOptions { PerMinute = 1000, Per7Days = 1000 },
    };
    readonly TcpListener hole = new(IPAddress.Loopback, 0);
    readonly List<Stream> held = [];
    readonly CancellationTokenSource stop = new();

    public Task InitializeAsync()
    {
        network["erlangen"].ImportFhir("anna.json", ClinicalRecord.Bundle(AnnaErlangen));
        network["munich"].ImportFhir("anna.json", ClinicalRecord.Bundle(AnnaMunich));
        foreach (var node in network.Nodes)
        {
            node.Approve(QueryTypes.CohortCount);
            node.Approve(QueryTypes.PatientSummary);
        }
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        stop.Cancel();
        hole.Stop();
        lock (held) foreach (var s in held) s.Dispose();
        await network.DisposeAsync();
    }

    [Theory]
    [InlineData("tcp")]
    [InlineData("tls")]
    public async Task A_site_that_accepts_connections_but_never_answers_is_a_timeout_while_the_others_answer(string layer)
    {
        StartBlackHole(completeTls: layer == "tls");
        var sites = network.Nodes.Select(n => new { id = n.Site, address = n.Address }).Append(new { id = "silent", address = $"https://127.0.0.1:{((IPEndPoint)hole.LocalEndpoint).Port}" });
        File.WriteAllText(network.SitesFile, JsonSerializer.Serialize(sites));
        await network.StartAllAsync();

        var count = await Requests.CountAsync(network.Client("researcher", "Dr Rita Researcher", null), Requests.BreastCancerQuery(1));
        Assert.Equal(SiteStatus.Ok, count.Sites["erlangen"].Status);
        Assert.Equal(SiteStatus.Ok, count.Sites["munich"].Status);
        Assert.Equal(SiteStatus.Timeout, count.Sites["silent"].Status);
        Assert.Equal("no answer within 3 s", count.Sites["silent"].Message);
        Assert.NotNull(count.Total);

        var summary = await Requests.SummaryAsync(network.Client("clinician", "Dr Clara Clinician", "erlangen", node: "erlangen"),
            network.Client("clinician", "Dr Clara Clinician", "erlangen"), "erlangen", "anna-e");
        Assert.Equal(["erlangen", "munich", "silent"], summary.Sites.Select(s => s.Site));
        Assert.Equal([SiteStatus.Ok, SiteStatus.Ok, SiteStatus.Timeout], summary.Sites.Select(s => s.Status));
        Assert.StartsWith("no answer within 3 s", summary.Sites[2].Message);
        Assert.Equal(["erlangen", "munich"], Assert.Single(summary.Entries, e => e.Entry.Code == "C50.4").Sites);
        // The silent site really accepted: the coordinator's calls reached it and were left hanging.
        lock (held) Assert.NotEmpty(held);
    }

    /// <summary>Accepts every connection and holds it open; with <paramref name="completeTls"/> completes a mutual-TLS handshake first (as a node would), then never reads or writes.</summary>
    void StartBlackHole(bool completeTls)
    {
        hole.Start();
        var tls = completeTls ? network.Material("node", "node-silent", "silent") : null;
        _ = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await hole.AcceptTcpClientAsync(stop.Token); }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { return; }
                Stream stream = client.GetStream();
                if (tls is not null)
                {
                    var ssl = new SslStream(stream, false, (_, _, _, _) => true);
                    try
                    {
                        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                        {
                            ServerCertificate = tls.Certificate,
                            ClientCertificateRequired = true,
                            ApplicationProtocols = [SslApplicationProtocol.Http2],
                        }, stop.Token);
                    }
                    catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException) { }
                    stream = ssl;
                }
                lock (held) held.Add(stream);
            }
        });
    }
}
