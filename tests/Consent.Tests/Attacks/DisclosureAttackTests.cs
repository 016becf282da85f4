using Midia.Consent.Tests.Support;
using Midia.Coordinator.Quota;
using Midia.Node.Consent;
using Midia.Node.Disclosure;
using Midia.Node.Policy;
using Midia.Node.Store;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Grpc.Core;
using Midia.Trust;
using Xunit.Abstractions;

namespace Midia.Consent.Tests.Attacks;

/// <summary>
/// Disclosure attacks end to end, over a real node and the real coordinator with mutual TLS: the
/// averaging attack (one count asked 1,000 times, through the coordinator and straight at the node
/// with the coordinator's own certificate), the differencing attack (pairs of counts whose cohorts
/// differ by one person, against the test's own knowledge of who is in), and the quotas.
/// </summary>
public sealed class DisclosureAttackTests(ITestOutputHelper output) : IAsyncLifetime
{
    const int Patients = 120;
    const string Person = "urn:midia:test:person";
    static readonly bool[] HasC50 = [.. Enumerable.Range(0, Patients).Select(i => new Random(8_0400 + i).Next(2) == 1)];
    static readonly long TrueCount = HasC50.Count(c => c);

    static string Criterion(string system, string code) => $$"""{"termCodes":[{"system":"{{system}}","code":"{{code}}"}]}""";

    /// <summary>Women with C50; the extra OR-code matches nobody and only makes the question new (fresh noise).</summary>
    static string BreastCancer(string? variant = null, int? without = null) =>
        $$"""{"version":"2","display":"C50","inclusionCriteria":[[{{Criterion(CodeSystems.Icd10Gm, "C50")}}{{(variant is null ? "" : "," + Criterion(Person, "nobody-" + variant))}}]]{{(without is null ? "" : $",\"exclusionCriteria\":[[{Criterion(Person, $"P{without}")}]]")}}}""";

    readonly ConsentNetwork network = new("erlangen");
    readonly List<NetworkChannel> channels = [];

    public async Task InitializeAsync()
    {
        Populate(network["erlangen"].DbPath);
        network["erlangen"].Approve(QueryTypes.CohortCount);
        await network.StartAllAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var channel in channels) channel.Dispose();
        await network.DisposeAsync();
    }

    /// <summary>Every patient: one condition (C50 or I10), one fact only they have (what an attacker would isolate them by), research consent.</summary>
    static void Populate(string db)
    {
        using var connection = SiteDatabase.Open(db);
        using var transaction = connection.BeginTransaction();
        foreach (var uri in new[] { CodeSystems.Icd10Gm, Person })
        {
            using var system = connection.CreateCommand();
            system.Transaction = transaction;
            system.CommandText = "INSERT OR IGNORE INTO code_system(uri) VALUES ($uri)";
            system.Parameters.AddWithValue("$uri", uri);
            system.ExecuteNonQuery();
        }
        for (var i = 0; i < Patients; i++)
        {
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO patient(resource_id, sex, birth_date) VALUES ($id, 'female', $born);
                INSERT INTO fact(pid, sid, code, kind, date, resource_type, resource_id)
                  VALUES (last_insert_rowid(), (SELECT sid FROM code_system WHERE uri = $icd), $code, 1, $date, 'Condition', 'c-' || $id);
                INSERT INTO fact(pid, sid, code, kind, date, resource_type, resource_id)
                  VALUES ((SELECT pid FROM patient WHERE resource_id = $id), (SELECT sid FROM code_system WHERE uri = $person), $person_code, 1, $date, 'Observation', 'o-' || $id);
                INSERT INTO consent_provision(pid, policy, permit, start, source)
                  VALUES ((SELECT pid FROM patient WHERE resource_id = $id), $policy, 1, $start, 'Consent/' || $id);
                """;
            insert.Parameters.AddWithValue("$id", $"p{i}");
            insert.Parameters.AddWithValue("$born", Days.From(new DateOnly(1950, 1, 1).AddDays(i * 97)));
            insert.Parameters.AddWithValue("$icd", CodeSystems.Icd10Gm);
            insert.Parameters.AddWithValue("$person", Person);
            insert.Parameters.AddWithValue("$code", HasC50[i] ? "C50.4" : "I10");
            insert.Parameters.AddWithValue("$person_code", $"P{i}");
            insert.Parameters.AddWithValue("$date", Days.From(new DateOnly(2020, 5, 1)));
            insert.Parameters.AddWithValue("$policy", ConsentPolicies.Research);
            insert.Parameters.AddWithValue("$start", Days.From(new DateOnly(2020, 1, 1)));
            insert.ExecuteNonQuery();
        }
        SiteDatabase.BumpDataVersion(connection, transaction);
        transaction.Commit();
    }

    CallInvoker Invoker(ConsentNetwork net, string role, string name, string? node = null)
    {
        var address = new Uri(node is null ? $"https://127.0.0.1:{net.CoordinatorPort}" : net[node].Address);
        var channel = NetworkChannel.Open(address, net.Material(role, name, role == "researcher" ? null : "erlangen"));
        channels.Add(channel);
        return channel.Invoker;
    }

    static async Task<List<CountEvent>> CountAsync(CallInvoker researcher, string ccdl)
    {
        using var call = new Research.ResearchClient(researcher).Count(new CountRequest { CcdlJson = ccdl }, deadline: DateTime.UtcNow.AddSeconds(60));
        var events = new List<CountEvent>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None)) events.Add(call.ResponseStream.Current);
        return events;
    }

    static async Task<Protos.Node.V1.ReleasedCount> AskNodeAsync(CallInvoker coordinator, string ccdl)
    {
        using var call = new SiteNode.SiteNodeClient(coordinator).CohortCountAsync(
            new CohortCountRequest { CcdlJson = ccdl, QueryId = Guid.NewGuid().ToString("N"), User = new EndUser { Name = "Attacker", Role = "researcher" } },
            deadline: DateTime.UtcNow.AddSeconds(60));
        return (await call.ResponseAsync).Count;
    }

    [Fact]
    public async Task AThousandRepeatsGetOneAnswerThroughTheCoordinatorAndAtTheNode()
    {
        var researcher = Invoker(network, "researcher", "Averaging Attacker");
        var answers = new List<long>();
        var fromHistory = 0;
        for (var i = 0; i < 1000; i++)
        {
            var events = await CountAsync(researcher, BreastCancer());
            if (events[0].Started.FromHistory) fromHistory++;
            answers.Add(events.Single(e => e.EventCase == CountEvent.EventOneofCase.Site).Site.Count.Value);
        }
        var quota = await new Research.ResearchClient(researcher).QuotaAsync(new QuotaRequest(), deadline: DateTime.UtcNow.AddSeconds(30));

        // Straight at the node with the coordinator's certificate: what a curious coordinator could do.
        var coordinator = Invoker(network, "coordinator", "coordinator", node: "erlangen");
        var atNode = new List<long>();
        foreach (var batch in Enumerable.Range(0, 1000).Chunk(10))
            atNode.AddRange((await Task.WhenAll(batch.Select(_ => AskNodeAsync(coordinator, BreastCancer())))).Select(c => c.Value));

        output.WriteLine($"true count {TrueCount}; 1,000 asks through the coordinator: answers {string.Join(", ", answers.Distinct())} ({fromHistory} from history, quota used {string.Join(", ", quota.Windows.Select(w => $"{w.Used}/{w.Limit} {w.Name}"))}); 1,000 asks at the node: answers {string.Join(", ", atNode.Distinct())}");
        Assert.Single(answers.Distinct());
        Assert.Equal(999, fromHistory);
        Assert.All(quota.Windows, w => Assert.Equal(1, w.Used));
        Assert.Equal(answers.Distinct(), atNode.Distinct());
        Assert.Equal(0, answers[0] % 10);
    }

    /// <summary>Per target: the cohort with and without them (a fresh pair of questions each), guessed from the two answers.</summary>
    async Task<double> DifferencingAccuracyAsync(CallInvoker coordinator)
    {
        var right = 0;
        for (var target = 0; target < Patients; target++)
        {
            var with = await AskNodeAsync(coordinator, BreastCancer($"t{target}"));
            var without = await AskNodeAsync(coordinator, BreastCancer($"t{target}", without: target));
            var guess = (with.HasValue ? with.Value : -1) > (without.HasValue ? without.Value : -1);
            if (guess == HasC50[target]) right++;
        }
        return (double)right / Patients;
    }

    [Fact]
    public async Task ADifferencingPairPerPatientGuessesMembershipNoBetterThanTheEpsilonBound()
    {
        var coordinator = Invoker(network, "coordinator", "coordinator", node: "erlangen");
        var noisy = await DifferencingAccuracyAsync(coordinator);
        using (var connection = SiteDatabase.Open(network["erlangen"].DbPath))
            new DisclosureControl(connection).Configure(QueryTypes.CohortCount, null, null, null, exact: true);
        var exact = await DifferencingAccuracyAsync(coordinator);
        output.WriteLine($"differencing, {Patients} patients ({TrueCount} with C50), one pair of questions each: {noisy:P1} right with the default noise, {exact:P1} with exact counts");
        var sigma = Math.Sqrt(0.25 / Patients);
        Assert.InRange(noisy, 0.5 - 4 * sigma, Math.Exp(0.5) / (1 + Math.Exp(0.5)) + 4 * sigma);
        Assert.Equal(1.0, exact);
    }

    /// <summary>Hostile CCDL through the real node: refused with the place to change and audited, never UNKNOWN.</summary>
    [Theory]
    [InlineData("\\ud800")]
    [InlineData("\\udfff\\ud800")]
    public async Task AnEscapedLoneSurrogateInTheQueryIsInvalidArgumentAndAudited(string escaped)
    {
        var coordinator = Invoker(network, "coordinator", "coordinator", node: "erlangen");
        var refusal = await Assert.ThrowsAsync<RpcException>(() => AskNodeAsync(coordinator, BreastCancer().Replace("\"code\":\"C50\"", "\"code\":\"C50" + escaped + "\"")));
        Assert.Equal(StatusCode.InvalidArgument, refusal.StatusCode);
        Assert.Contains("inclusionCriteria[0][0].termCodes[0].code", refusal.Status.Detail);
        var audit = network["erlangen"].Rows("SELECT outcome, reason FROM audit");
        Assert.Contains(audit, row => row.Contains("lone UTF-16 surrogate", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheFourthNewQuestionInAMinuteIsResourceExhaustedWhileARepeatIsStillAnswered()
    {
        var researcher = Invoker(network, "researcher", "Busy Researcher");
        for (var i = 0; i < 3; i++) Assert.False((await CountAsync(researcher, BreastCancer($"q{i}")))[0].Started.FromHistory);
        var refusal = await Assert.ThrowsAsync<RpcException>(() => CountAsync(researcher, BreastCancer("q3")));
        Assert.Equal(StatusCode.ResourceExhausted, refusal.StatusCode);
        Assert.Contains("3 queries per minute", refusal.Status.Detail);
        Assert.True((await CountAsync(researcher, BreastCancer("q0")))[0].Started.FromHistory);
        // Another researcher has their own quota.
        Assert.False((await CountAsync(Invoker(network, "researcher", "Other Researcher"), BreastCancer("q3")))[0].Started.FromHistory);
        output.WriteLine($"quota per minute: 3 new questions answered, the 4th refused: {refusal.Status.Detail}");
    }

    [Fact]
    public async Task TheSevenDayHardLimitRefusesTheNextNewQuestion()
    {
        await using var limited = new ConsentNetwork("erlangen") { Quota = new QuotaOptions { PerMinute = 1000, Per7Days = 5 } };
        Populate(limited["erlangen"].DbPath);
        limited["erlangen"].Approve(QueryTypes.CohortCount);
        await limited.StartAllAsync();
        var researcher = Invoker(limited, "researcher", "Weekly Researcher");
        for (var i = 0; i < 5; i++) await CountAsync(researcher, BreastCancer($"w{i}"));
        var refusal = await Assert.ThrowsAsync<RpcException>(() => CountAsync(researcher, BreastCancer("w5")));
        Assert.Equal(StatusCode.ResourceExhausted, refusal.StatusCode);
        Assert.Contains("5 queries per 7 days per researcher (hard limit)", refusal.Status.Detail);
        output.WriteLine($"quota per 7 days: {refusal.Status.Detail}");
        foreach (var channel in channels) channel.Dispose();
        channels.Clear();
    }
}
