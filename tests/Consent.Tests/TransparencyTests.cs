using System.Diagnostics;
using System.Text.Json;
using Midia.Consent.Tests.Support;
using Midia.Node.Consent;
using Midia.Node.Disclosure;
using Midia.Node.Linkage;
using Midia.Node.Policy;
using Midia.Node.Store;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Grpc.Core;
using Midia.Trust;
using Xunit.Abstractions;
using CoordinatorReport = Midia.Protos.Coordinator.V1.PatientReportReply;
using CoordinatorReportRequest = Midia.Protos.Coordinator.V1.PatientReportRequest;
using CareClient = Midia.Protos.Coordinator.V1.Care.CareClient;
using PatientCareClient = Midia.Protos.Node.V1.PatientCare.PatientCareClient;

namespace Midia.Consent.Tests;

/// <summary>
/// Issue 7 end to end over real nodes, the real coordinator and mutual TLS: a registered project's
/// count leaves a research use that the counted patient's report shows (with the published outcome
/// once there is one) and that no uncounted patient ever sees; a clinician's summary shows up as
/// an access; and `midia-node patient report` prints it, falling back to its own site's part when
/// the coordinator is down. Who was counted is the test's own knowledge of the data, not the ledger's.
/// </summary>
public sealed class TransparencyTests(ITestOutputHelper output) : IAsyncLifetime
{
    const string Question = "Women with breast cancer (C50)";
    static readonly string Ccdl = $$"""{"version": "http://to_be_decided.com/draft-1/schema#", "display": "{{Question}}", "inclusionCriteria": [[{"termCodes": [{"code": "C50", "system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "display": "Breast cancer"}]}]]}""";

    readonly ConsentNetwork network = new("erlangen", "munich", "practice");
    readonly List<NetworkChannel> channels = [];

    // Test's own knowledge: who has C50 and research consent where.
    static readonly SitePatient[] Erlangen =
    [
        new("e-anna", "A100000001", "Meier", "Anna", "C50.4", Research: true),    // counted
        new("e-berta", "B100000002", "Huber", "Berta", "C50.1", Research: false), // matches, no research consent
        new("e-clara", "C100000003", "Weber", "Clara", "I10", Research: true),    // consents, does not match
        new("e-dora", "D100000004", "Kraus", "Dora", "C50", Research: true),      // counted
    ];
    static readonly SitePatient[] Munich =
    [
        new("m-anna", "A100000001", "Meier", "Anna", "C50.9", Research: true),    // counted (the same person as e-anna)
        new("m-clara", "C100000003", "Weber", "Clara", "I10", Research: true),
    ];
    static readonly SitePatient[] Practice = [new("p-emma", "E100000005", "Roth", "Emma", "J45", Research: true)];

    public async Task InitializeAsync()
    {
        foreach (var (site, patients) in new[] { ("erlangen", Erlangen), ("munich", Munich), ("practice", Practice) })
        {
            Populate(network[site].DbPath, patients);
            using var connection = SiteDatabase.Open(network[site].DbPath);
            LinkagePseudonym.FillMissing(connection, network.Key);
            foreach (var type in QueryTypes.All) new QueryApproval(connection).Approve(type, null, null);
            new DisclosureControl(connection).Configure(QueryTypes.CohortCount, null, null, null, exact: true);
        }
        await network.StartAllAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var channel in channels) channel.Dispose();
        await network.DisposeAsync();
    }

    [Fact]
    public async Task ACountedPatientSeesTheRegisteredProjectWithQuestionAndResultAndNobodyUncountedDoes()
    {
        var researcher = Coordinator(network.Material("researcher", "Dr Ada"));
        await researcher.RegisterAsync(new RegisterProjectRequest
            { Id = "her2-relapse", Title = "Relapse after HER2 therapy", Question = "How often does breast cancer return?", Institution = "FAU Erlangen" });
        var events = await researcher.CountAsync(Ccdl, "her2-relapse");
        var queryId = events.First().Started.QueryId;
        Assert.All(events.Where(e => e.Site is not null).Select(e => e.Site), s => Assert.Equal(SiteStatus.Ok, s.Status));

        var node = Coordinator(network.Material("node", "node-erlangen", "erlangen"));
        var anna = await node.PatientReportAsync(new CoordinatorReportRequest { Linkage = Linkage("A100000001") });

        Assert.Equal(["erlangen ok", "munich ok", "practice not_shared"], anna.Sites.Select(s => $"{s.Site} {Word(s.Status)}"));
        foreach (var (site, released) in new[] { ("erlangen", "2 (exact)"), ("munich", "1 (exact)") })
        {
            var use = Assert.Single(anna.Sites.Single(s => s.Site == site).Report.Research);
            Assert.Equal((queryId, "her2-relapse", Question, "cohort-count", released), (use.QueryId, use.Project, use.Question, use.QueryType, use.Released));
        }
        var project = Assert.Single(anna.Projects);
        Assert.Equal(("Relapse after HER2 therapy", "How often does breast cancer return?", "FAU Erlangen", ""), (project.Title, project.Question, project.Institution, project.Result));
        // Consent as each site holds it, in plain words.
        var research = anna.Sites.Single(s => s.Site == "erlangen").Report.Consent.Single(c => c.Policy == ConsentPolicies.Research);
        Assert.True(research.Permitted);
        Assert.StartsWith("permitted", research.Explanation);
        Assert.False(anna.Sites.Single(s => s.Site == "erlangen").Report.Consent.Single(c => c.Policy == ConsentPolicies.CareSharing).Permitted);

        // Every patient the test knows was not counted — no consent, or not matching — sees no research use at any site.
        foreach (var kvnr in new[] { "B100000002", "C100000003", "E100000005" })
        {
            var report = await node.PatientReportAsync(new CoordinatorReportRequest { Linkage = Linkage(kvnr) });
            Assert.Contains(report.Sites, s => s.Status == SiteStatus.Ok);
            Assert.All(report.Sites.Where(s => s.Report is not null), s => Assert.Empty(s.Report.Research));
            Assert.Empty(report.Projects);
        }
        var dora = await node.PatientReportAsync(new CoordinatorReportRequest { Linkage = Linkage("D100000004") });
        Assert.Equal(queryId, Assert.Single(dora.Sites.Single(s => s.Site == "erlangen").Report.Research).QueryId);

        // The outcome, once published, is in the next report.
        await researcher.PublishAsync(new PublishResultRequest { Id = "her2-relapse", Result = "One in five returned within five years." });
        var later = await node.PatientReportAsync(new CoordinatorReportRequest { Linkage = Linkage("A100000001") });
        Assert.Equal("One in five returned within five years.", Assert.Single(later.Projects).Result);
        // Asking was itself recorded at every site that knows the patient.
        Assert.Contains(later.Sites.Single(s => s.Site == "munich").Report.Accesses, a => a.Purpose == "patient-report" && a.UserRole == "node" && a.UserSite == "erlangen");
    }

    [Fact]
    public async Task AClinicianSummaryShowsUpAsAnAccessInThePatientsReportNewestFirst()
    {
        var clinician = network.Material("clinician", "Dr Lena Neuro", "munich");
        using var munichChannel = NetworkChannel.Open(network["munich"].Address, clinician);
        using var resolving = new PatientCareClient(munichChannel.Invoker).ResolvePatientAsync(new ResolvePatientRequest { LocalId = "m-anna" }, deadline: DateTime.UtcNow.AddSeconds(30));
        var ticket = (await resolving.ResponseAsync).Ticket;
        var summary = await Coordinator(clinician).SummaryAsync(new SummaryRequest { Site = "munich", Ticket = ticket });
        Assert.Equal(SiteStatus.Ok, summary.Sites.Single(s => s.Site == "munich").Status);

        var report = await Coordinator(network.Material("node", "node-erlangen", "erlangen"))
            .PatientReportAsync(new CoordinatorReportRequest { Linkage = Linkage("A100000001") });

        // Munich released its own data to its own clinician; erlangen refused (no care-sharing consent) — both are accesses.
        var atMunich = report.Sites.Single(s => s.Site == "munich").Report.Accesses.Single(a => a.Purpose == "patient-summary");
        Assert.Equal(("Dr Lena Neuro", "clinician", "munich", "released"), (atMunich.UserName, atMunich.UserRole, atMunich.UserSite, atMunich.Outcome));
        var atErlangen = report.Sites.Single(s => s.Site == "erlangen").Report.Accesses.Single(a => a.Purpose == "patient-summary");
        Assert.Equal(("Dr Lena Neuro", "refused"), (atErlangen.UserName, atErlangen.Outcome));
        // A second report lists the first one's access above the summary: newest first.
        var again = await Coordinator(network.Material("node", "node-erlangen", "erlangen"))
            .PatientReportAsync(new CoordinatorReportRequest { Linkage = Linkage("A100000001") });
        Assert.Equal(["patient-report", "patient-summary"], again.Sites.Single(s => s.Site == "munich").Report.Accesses.Select(a => a.Purpose));
    }

    [Fact]
    public async Task ASiteWithoutApprovalSaysSoAndOnlyNodesAndCliniciansMayAsk()
    {
        using (var connection = SiteDatabase.Open(network["munich"].DbPath)) new QueryApproval(connection).Revoke(QueryTypes.PatientReport, null);
        var node = Coordinator(network.Material("node", "node-erlangen", "erlangen"));
        var report = await node.PatientReportAsync(new CoordinatorReportRequest { Linkage = Linkage("A100000001") });
        var munich = report.Sites.Single(s => s.Site == "munich");
        Assert.Equal(SiteStatus.NotApproved, munich.Status);
        Assert.Contains("patient-report", munich.Message);
        Assert.Null(munich.Report);
        Assert.Equal(SiteStatus.Ok, report.Sites.Single(s => s.Site == "erlangen").Status);

        var researcher = await Assert.ThrowsAsync<RpcException>(() => Coordinator(network.Material("researcher", "Dr Ada"))
            .PatientReportAsync(new CoordinatorReportRequest { Linkage = Linkage("A100000001") }));
        Assert.Equal(StatusCode.PermissionDenied, researcher.StatusCode);
        var garbage = await Assert.ThrowsAsync<RpcException>(() => node.PatientReportAsync(new CoordinatorReportRequest { Linkage = "A100000001" }));
        Assert.Equal(StatusCode.InvalidArgument, garbage.StatusCode);
        Assert.DoesNotContain("A100000001", garbage.Status.Detail);
    }

    [Fact]
    public async Task ThePatientReportCommandPrintsEverySitesPartAndFallsBackToItsOwnWhenTheCoordinatorIsDown()
    {
        var researcher = Coordinator(network.Material("researcher", "Dr Ada"));
        await researcher.RegisterAsync(new RegisterProjectRequest
            { Id = "bc-count", Title = "Breast cancer in Franconia", Question = "How many women are treated for breast cancer?", Institution = "FAU Erlangen" });
        await researcher.CountAsync(Ccdl, "bc-count");
        await researcher.PublishAsync(new PublishResultRequest { Id = "bc-count", Result = "Counted for planning only." });

        // In process, the RPC the command makes: the figure BENCHMARKS.md reports for 3 sites.
        var node = Coordinator(network.Material("node", "node-erlangen", "erlangen"));
        var times = new List<double>();
        for (var i = 0; i < 21; i++)
        {
            var clock = Stopwatch.StartNew();
            await node.PatientReportAsync(new CoordinatorReportRequest { Linkage = Linkage("A100000001") });
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        output.WriteLine($"Care.PatientReport across 3 sites, 21 calls: p50 {times[10]:F1} ms, p95 {times[19]:F1} ms, max {times[20]:F1} ms");

        var (cert, key, ca, linkage) = network.WritePem("node", "node-erlangen", "erlangen");
        string[] connection = ["--coordinator", $"https://127.0.0.1:{network.CoordinatorPort}", "--cert", cert, "--key", key, "--ca", ca, "--linkage-key", linkage];
        var wall = Stopwatch.StartNew();
        var (exit, stdout, stderr) = await Run(["patient", "report", "--db", network["erlangen"].DbPath, "--kvnr", "A100000001", "--json", .. connection]);
        output.WriteLine($"`midia-node patient report --json` (process start included): {wall.Elapsed.TotalMilliseconds:F0} ms");
        Assert.True(exit == 0, stderr);
        using (var document = JsonDocument.Parse(stdout))
        {
            var root = document.RootElement;
            Assert.True(root.GetProperty("complete").GetBoolean());
            Assert.Equal(["erlangen", "munich", "practice"], root.GetProperty("sites").EnumerateArray().Select(s => s.GetProperty("site").GetString()));
            var use = root.GetProperty("sites")[0].GetProperty("research").EnumerateArray().Single();
            Assert.Equal(("bc-count", Question, "Breast cancer in Franconia", "Counted for planning only."),
                (use.GetProperty("project").GetString(), use.GetProperty("question").GetString(), use.GetProperty("title").GetString(), use.GetProperty("publishedResult").GetString()));
            Assert.DoesNotContain("A100000001", stdout);
        }
        var text = await Run(["patient", "report", "--db", network["erlangen"].DbPath, "--patient", "e-anna", .. connection]);
        Assert.True(text.Exit == 0, text.Stderr);
        output.WriteLine(text.Stdout);
        Assert.Contains("Breast cancer in Franconia", text.Stdout);
        Assert.Contains("published outcome: Counted for planning only.", text.Stdout);
        Assert.Contains("Sites asked: erlangen ok, munich ok, practice no record", text.Stdout);

        await network.StopCoordinatorAsync();
        var alone = await Run(["patient", "report", "--db", network["erlangen"].DbPath, "--patient", "e-anna", "--timeout", "5", .. connection]);
        Assert.True(alone.Exit == 0, alone.Stderr);
        output.WriteLine(alone.Stdout);
        Assert.Contains("could not be reached", alone.Stdout);
        Assert.Contains("the other sites could not be asked", alone.Stdout);
        Assert.Contains(Question, alone.Stdout);
        Assert.DoesNotContain("at munich", alone.Stdout);

        var nobody = await Run(["patient", "report", "--db", network["erlangen"].DbPath, "--patient", "no-such-patient", .. connection]);
        Assert.NotEqual(0, nobody.Exit);
        Assert.Equal("error: no patient 'no-such-patient' at this site", nobody.Stderr.Trim());
    }

    string Linkage(string kvnr) => LinkagePseudonym.Of(network.Key, kvnr, null, null, null, null)!;

    static string Word(SiteStatus status) => status.Word();

    CoordinatorClient Coordinator(TlsMaterial tls)
    {
        var channel = NetworkChannel.Open(network.CoordinatorAddress, tls);
        channels.Add(channel);
        return new CoordinatorClient(channel.Invoker);
    }

    static async Task<(int Exit, string Stdout, string Stderr)> Run(string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "midia-node.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Patients with one condition each and, where they gave it, an open research permit document.</summary>
    static void Populate(string db, SitePatient[] patients)
    {
        using var connection = SiteDatabase.Open(db);
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT OR IGNORE INTO code_system(uri) VALUES ($uri)";
        command.Parameters.AddWithValue("$uri", CodeSystems.Icd10Gm);
        command.ExecuteNonQuery();
        foreach (var p in patients)
        {
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO patient(resource_id, sex, birth_date, kvnr, family, given) VALUES ($id, 'female', $born, $kvnr, $family, $given);
                INSERT INTO fact(pid, sid, code, kind, date, resource_type, resource_id)
                  VALUES (last_insert_rowid(), (SELECT sid FROM code_system WHERE uri = $uri), $code, 1, $date, 'Condition', 'c-' || $id);
                """;
            insert.Parameters.AddWithValue("$id", p.ResourceId);
            insert.Parameters.AddWithValue("$born", Days.From(new DateOnly(1960, 3, 1)));
            insert.Parameters.AddWithValue("$kvnr", p.Kvnr);
            insert.Parameters.AddWithValue("$family", p.Family);
            insert.Parameters.AddWithValue("$given", p.Given);
            insert.Parameters.AddWithValue("$uri", CodeSystems.Icd10Gm);
            insert.Parameters.AddWithValue("$code", p.Condition);
            insert.Parameters.AddWithValue("$date", Days.From(new DateOnly(2020, 5, 1)));
            insert.ExecuteNonQuery();
            if (!p.Research) continue;
            insert.CommandText = """
                INSERT INTO consent_provision(pid, policy, permit, start, source)
                VALUES ((SELECT pid FROM patient WHERE resource_id = $id), $policy, 1, $start, 'Consent/' || $id)
                """;
            insert.Parameters.AddWithValue("$policy", ConsentPolicies.Research);
            insert.Parameters.AddWithValue("$start", Days.From(new DateOnly(2020, 1, 1)));
            insert.ExecuteNonQuery();
        }
        SiteDatabase.BumpDataVersion(connection, transaction);
        transaction.Commit();
    }

    sealed record SitePatient(string ResourceId, string Kvnr, string Family, string Given, string Condition, bool Research);

    /// <summary>The coordinator's Projects, Care and Research services over a real mutual-TLS channel.</summary>
    sealed class CoordinatorClient(CallInvoker invoker)
    {
        readonly Projects.ProjectsClient projects = new(invoker);
        readonly CareClient care = new(invoker);
        readonly Research.ResearchClient research = new(invoker);

        static DateTime Deadline(int seconds = 30) => DateTime.UtcNow.AddSeconds(seconds);

        public Task<Project> RegisterAsync(RegisterProjectRequest request) => projects.RegisterAsync(request, deadline: Deadline()).ResponseAsync;
        public Task<Project> PublishAsync(PublishResultRequest request) => projects.PublishAsync(request, deadline: Deadline()).ResponseAsync;
        public Task<CoordinatorReport> PatientReportAsync(CoordinatorReportRequest request) => care.PatientReportAsync(request, deadline: Deadline()).ResponseAsync;
        public Task<SummaryReply> SummaryAsync(SummaryRequest request) => care.SummaryAsync(request, deadline: Deadline()).ResponseAsync;

        public async Task<List<CountEvent>> CountAsync(string ccdl, string project)
        {
            using var call = research.Count(new CountRequest { CcdlJson = ccdl, Project = project }, deadline: Deadline(60));
            var events = new List<CountEvent>();
            while (await call.ResponseStream.MoveNext(CancellationToken.None)) events.Add(call.ResponseStream.Current);
            return events;
        }
    }
}
