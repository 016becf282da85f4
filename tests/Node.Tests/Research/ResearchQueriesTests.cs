using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Midia.Node.Audit;
using Midia.Node.Consent;
using Midia.Node.Disclosure;
using Midia.Node.Policy;
using Midia.Node.Linkage;
using Midia.Node.Research;
using Midia.Node.Serve;
using Midia.Node.Store;
using Midia.Node.Tests.Query;
using Midia.Protos.Node.V1;
using Midia.Testing;
using Midia.Trust;

namespace Midia.Node.Tests.Research;

/// <summary>
/// The node's research API, through the node's whole server pipeline (certificate
/// authentication, authorization, interceptors) in memory: the released count is the
/// brute-force cohort of consenting patients, and every refusal carries the status the
/// coordinator maps to a per-site state — each request leaving exactly one audit entry.
/// </summary>
public sealed class ResearchQueriesTests : IAsyncLifetime
{
    readonly SiteFile site = new();
    readonly TestCertificates certificates = new("Node Tests CA");
    readonly HashSet<long> consenting = [];
    RandomSite data = null!;
    ReferenceEvaluator reference = null!;
    WebApplication node = null!;

    public async Task InitializeAsync()
    {
        data = RandomSite.Fill(site, seed: 777, patients: 300);
        reference = new ReferenceEvaluator(data);
        // Research consent (MII .8) for about two thirds of the patients, open-ended; the rest have none.
        var random = new Random(99);
        using (var insert = site.Connection.CreateCommand())
        {
            insert.CommandText = "INSERT INTO consent_provision(pid, policy, permit, start, end, source) VALUES ($pid, $policy, 1, NULL, NULL, 'Consent/c' || $pid)";
            insert.Parameters.AddWithValue("$policy", ConsentPolicies.Research);
            var pid = insert.Parameters.Add("$pid", Microsoft.Data.Sqlite.SqliteType.Integer);
            foreach (var patient in data.Patients.Where(_ => random.Next(3) > 0))
            {
                pid.Value = patient.Pid;
                insert.ExecuteNonQuery();
                consenting.Add(patient.Pid);
            }
        }
        site.Commit();
        new QueryApproval(site.Connection).Approve(QueryTypes.CohortCount, null, null);
        new DisclosureControl(site.Connection).Configure(QueryTypes.CohortCount, null, null, null, exact: true);

        var settings = new NodeSettings("erlangen", site.DatabasePath, new IPEndPoint(IPAddress.Loopback, 0), certificates.Material("node", "node-erlangen", "erlangen"),
            new Uri("https://127.0.0.1:9"), LinkageKey.FromSecret("a node test linkage secret of at least 32 bytes"u8)) { Sessions = 2 };
        node = NodeServer.Create(settings, configure: builder =>
        {
            InMemoryServers.InMemory(builder);
            builder.Logging.ClearProviders();
        });
        await node.StartNetworkServerAsync();
    }

    public async Task DisposeAsync()
    {
        await node.DisposeAsync();
        site.Dispose();
        certificates.Dispose();
    }

    /// <summary>The node's research client for a caller with a certificate of that role.</summary>
    (IDisposable Channel, SiteNode.SiteNodeClient Client) Connect(string role, string name)
    {
        var channel = node.Channel(certificates.Material(role, name).Certificate);
        return (channel, new SiteNode.SiteNodeClient(channel));
    }

    static CallOptions Options() => new(deadline: DateTime.UtcNow.AddSeconds(30));

    static EndUser Researcher => new() { Name = "Dr. Ada", Role = "researcher", Project = "her2-relapse" };

    [Fact]
    public async Task ExactCountsEqualTheBruteForceCohortOfConsentingPatients()
    {
        var (channel, client) = Connect("coordinator", "coordinator");
        using var _ = channel;
        var random = new Random(31337);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var nonZero = 0;
        for (var i = 0; i < 40; i++)
        {
            var json = RandomSite.Query(random);
            var expected = reference.Evaluate(json, today).Count(consenting.Contains);
            var reply = await client.CohortCountAsync(new CohortCountRequest { User = Researcher, CcdlJson = json, QueryId = $"q{i}" }, Options());
            Assert.True(reply.Count.HasValue, $"query #{i}: no value released\n{json}");
            Assert.Equal(expected, reply.Count.Value);
            Assert.False(reply.Count.Obfuscated);
            Assert.Equal(64, reply.CanonicalHash.Length);
            if (expected > 0) nonZero++;
        }
        Assert.True(nonZero > 10, $"only {nonZero} of 40 queries counted anybody: the comparison would prove little");
        Assert.Equal(40, new AuditLog(site.Connection).Read().Count(e => e.Outcome == AuditOutcome.Answered && e.QueryType == QueryTypes.CohortCount));
    }

    [Fact]
    public async Task TheUsageLedgerHoldsExactlyThePatientsEachAnsweredQueryCountedAndNothingForRefusedOnes()
    {
        var (channel, client) = Connect("coordinator", "coordinator");
        using var _ = channel;
        var random = new Random(4242);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var expected = new Dictionary<string, HashSet<long>>();
        for (var i = 0; i < 15; i++)
        {
            var json = RandomSite.Query(random);
            expected[$"ledger-{i}"] = [.. reference.Evaluate(json, today).Where(consenting.Contains)];
            await client.CohortCountAsync(new CohortCountRequest { User = Researcher, CcdlJson = json, QueryId = $"ledger-{i}" }, Options());
        }
        // Refused: not approved (stratified) and not evaluable; neither may leave a research use.
        await Assert.ThrowsAsync<RpcException>(async () => await client.StratifiedCountAsync(new StratifiedCountRequest { User = Researcher, CcdlJson = RandomSite.Query(random), QueryId = "refused-1", StratifyBy = { "sex" } }, Options()));
        await Assert.ThrowsAsync<RpcException>(async () => await client.CohortCountAsync(new CohortCountRequest
        {
            User = Researcher, QueryId = "refused-2",
            CcdlJson = """{"version":"2","inclusionCriteria":[[{"termCodes":[{"system":"http://loinc.org","code":"2857-1"}],"valueFilter":{"type":"fuzzy"}}]]}""",
        }, Options()));

        var rows = new Dictionary<string, (string Project, string Type, string Released, byte[] Blob)>();
        using (var command = site.Connection.CreateCommand())
        {
            command.CommandText = "SELECT query_id, project, query_type, released, patients FROM research_use";
            using var reader = command.ExecuteReader();
            while (reader.Read()) rows.Add(reader.GetString(0), (reader.GetString(1), reader.GetString(2), reader.GetString(3), (byte[])reader.GetValue(4)));
        }
        Assert.Equal(expected.Keys.Order(), rows.Keys.Order());
        var everyPid = data.Patients.Select(p => p.Pid).ToList();
        foreach (var (queryId, pids) in expected)
        {
            var row = rows[queryId];
            Assert.Equal(("her2-relapse", QueryTypes.CohortCount), (row.Project, row.Type));
            Assert.Equal($"{pids.Count} (exact)", row.Released);
            Assert.Equal(pids.Order(), CompressedPatientSet.Decode(row.Blob).Members().Order());
            foreach (var pid in everyPid) Assert.Equal(pids.Contains(pid), CompressedPatientSet.Contains(row.Blob, pid));
        }
        Assert.True(expected.Values.Count(p => p.Count > 0) > 5, "too few queries counted anybody for the comparison to prove much");

        // A stratified count counts the same patients: its row holds the whole cohort, not one stratum.
        new QueryApproval(site.Connection).Approve(QueryTypes.StratifiedCount, null, null);
        var stratifiedJson = RandomSite.Query(random);
        var stratified = reference.Evaluate(stratifiedJson, today).Where(consenting.Contains).Order().ToList();
        await client.StratifiedCountAsync(new StratifiedCountRequest { User = Researcher, CcdlJson = stratifiedJson, QueryId = "strata", StratifyBy = { "sex" } }, Options());
        using var read = site.Connection.CreateCommand();
        read.CommandText = "SELECT query_type, patients FROM research_use WHERE query_id = 'strata'";
        using var stored = read.ExecuteReader();
        Assert.True(stored.Read());
        Assert.Equal(QueryTypes.StratifiedCount, stored.GetString(0));
        Assert.Equal(stratified, CompressedPatientSet.Decode((byte[])stored.GetValue(1)).Members());
    }

    [Fact]
    public async Task AnUnapprovedQueryTypeIsRefusedNamingSiteAndTypeAndShowsUpAsPending()
    {
        var (channel, client) = Connect("coordinator", "coordinator");
        using var _ = channel;
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.StratifiedCountAsync(new StratifiedCountRequest { User = Researcher, CcdlJson = RandomSite.Query(new Random(1)), StratifyBy = { "sex" } }, Options()));
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("erlangen", e.Status.Detail);
        Assert.Contains(QueryTypes.StratifiedCount, e.Status.Detail);
        Assert.Equal("not_approved", e.Trailers.GetValue(ResearchQueries.SiteStatusTrailer));
        var pending = new QueryApproval(site.Connection).Overview(Days.Today()).Pending;
        Assert.Contains(pending, p => p.QueryType == QueryTypes.StratifiedCount && p.Project == "her2-relapse");
        Assert.Contains(new AuditLog(site.Connection).Read(), a => a.Outcome == AuditOutcome.Refused && a.QueryType == QueryTypes.StratifiedCount);
    }

    [Fact]
    public async Task AQueryTheNodeCannotEvaluateExactlyIsRefusedWithItsJsonPath()
    {
        var (channel, client) = Connect("coordinator", "coordinator");
        using var _ = channel;
        const string json = """{"version":"2","inclusionCriteria":[[{"termCodes":[{"system":"http://loinc.org","code":"2857-1"}],"valueFilter":{"type":"fuzzy"}}]]}""";
        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.CohortCountAsync(new CohortCountRequest { User = Researcher, CcdlJson = json }, Options()));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("inclusionCriteria[0][0].valueFilter", e.Status.Detail);
    }

    [Fact]
    public async Task OnlyTheCoordinatorMayAsk()
    {
        var (channel, client) = Connect("researcher", "Dr. Ada");
        using var _ = channel;
        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.CohortCountAsync(new CohortCountRequest { User = Researcher, CcdlJson = RandomSite.Query(new Random(2)) }, Options()));
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("coordinator", e.Status.Detail);
    }

    [Fact]
    public async Task StratifiedCountsAreObfuscatedByDefaultAndSumCloseToTheCohort()
    {
        new QueryApproval(site.Connection).Approve(QueryTypes.StratifiedCount, null, null);
        var (channel, client) = Connect("coordinator", "coordinator");
        using var _ = channel;
        const string everybody = """{"version":"2","inclusionCriteria":[]}""";
        var reply = await client.StratifiedCountAsync(new StratifiedCountRequest { User = Researcher, CcdlJson = everybody, StratifyBy = { "sex" } }, Options());
        Assert.NotEmpty(reply.Strata);
        foreach (var stratum in reply.Strata)
        {
            Assert.True(stratum.Key.ContainsKey("sex"));
            if (stratum.Count.BelowThreshold) Assert.False(stratum.Count.HasValue);
            else Assert.True(stratum.Count.Obfuscated && stratum.Count.Value % 10 == 0, $"stratum {stratum.Key["sex"]}: {stratum.Count}");
        }
        // The same question gets the same answer (deterministic noise), so it cannot be averaged away.
        var again = await client.StratifiedCountAsync(new StratifiedCountRequest { User = Researcher, CcdlJson = everybody, StratifyBy = { "sex" } }, Options());
        Assert.Equal(reply.Strata, again.Strata);
    }
}
