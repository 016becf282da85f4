using Midia.Node.Care;
using Midia.Node.Consent;
using Midia.Node.Linkage;
using Midia.Node.Policy;
using Midia.Node.Store;
using Midia.Node.Tests.Import;
using Midia.Node.Transparency;
using Midia.Protos.Node.V1;
using Grpc.Core;
using Midia.Testing;
using Midia.Trust;

using PatientCare = Midia.Node.Care.PatientCare;

namespace Midia.Node.Tests.Care;

/// <summary>The node's gate for the summary, called directly: who may resolve, and what an unknown patient and a denial look like.</summary>
public sealed class PatientCareTests : IDisposable
{
    static readonly LinkageKey Key = LinkageKey.FromSecret("a node test linkage secret of at least 32 bytes"u8);
    static readonly PeerIdentity Coordinator = new("coordinator", "coordinator", null);
    readonly SiteFixture site = new();
    readonly SiteSessions sessions;
    readonly PatientCare care;

    public PatientCareTests()
    {
        var report = site.Import(site.Write("bundle.json", """
            {"resourceType":"Bundle","type":"collection","entry":[
              {"resource":{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1960-01-01",
                "identifier":[{"system":"http://fhir.de/sid/gkv/kvid-10","value":"A123456789"}]}},
              {"resource":{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"onsetDateTime":"2019-01-01",
                "code":{"coding":[{"system":"http://fhir.de/CodeSystem/bfarm/icd-10-gm","code":"C50.4"}]}}}
            ]}
            """));
        Assert.True(report.Applied, string.Join("\n", report.Problems));
        using (var connection = SiteDatabase.Open(site.DbPath))
        {
            LinkagePseudonym.FillMissing(connection, Key);
            new QueryApproval(connection).Approve(QueryTypes.PatientSummary, null, null);
        }
        sessions = new SiteSessions(site.DbPath, 1);
        care = Care(new PatientTickets(TimeProvider.System));
    }

    public void Dispose()
    {
        sessions.Dispose();
        site.Dispose();
    }

    PatientCare Care(PatientTickets tickets) => new(Erlangen, sessions, Key, new PatientReports(Erlangen, sessions), tickets);

    static readonly NodeSite Erlangen = new("erlangen");

    static ServerCallContext As(PeerIdentity peer) => CallContexts.For(peer);

    async Task<string> LinkageOf(string kvnr)
    {
        var clinician = As(new PeerIdentity("Dr C", "clinician", "erlangen"));
        var reply = await care.ResolvePatient(new ResolvePatientRequest { Kvnr = kvnr }, clinician);
        var opened = await care.OpenTicket(new OpenTicketRequest { User = new EndUser { Name = "Dr C", Role = "clinician", Site = "erlangen" }, Ticket = reply.Ticket }, As(Coordinator));
        return opened.Linkage;
    }

    [Fact]
    public async Task Resolving_by_kvnr_in_any_spelling_yields_the_patients_linkage_pseudonym()
    {
        var linkage = await LinkageOf(" a123456789 ");
        Assert.Equal(LinkagePseudonym.Of(Key, "A123456789", null, null, null, null), linkage);
    }

    [Fact]
    public async Task Only_a_clinician_of_this_site_may_resolve_and_only_the_coordinator_may_redeem_or_ask()
    {
        static Task<string?> Refusal(string method, PeerIdentity caller) => Rules.RefusalAsync(typeof(PatientCare), method, caller, "erlangen");

        Assert.Contains("'munich'", await Refusal(nameof(PatientCare.ResolvePatient), new PeerIdentity("Dr M", "clinician", "munich")));
        Assert.Null(await Refusal(nameof(PatientCare.ResolvePatient), new PeerIdentity("Dr C", "clinician", "erlangen")));
        foreach (var method in new[] { nameof(PatientCare.ResolvePatient), nameof(PatientCare.OpenTicket), nameof(PatientCare.PatientSummary) })
            Assert.NotNull(await Refusal(method, new PeerIdentity("Dr R", "researcher", "erlangen")));
        Assert.Equal("requires role coordinator; caller has role clinician", await Refusal(nameof(PatientCare.PatientSummary), new PeerIdentity("Dr C", "clinician", "erlangen")));
        Assert.Null(await Refusal(nameof(PatientCare.PatientSummary), Coordinator));
    }

    [Fact]
    public async Task Without_care_sharing_consent_another_sites_clinician_gets_exactly_the_answer_for_an_unknown_patient()
    {
        var linkage = await LinkageOf("A123456789");
        var munich = new EndUser { Name = "Dr M", Role = "clinician", Site = "munich" };

        var denied = await Assert.ThrowsAsync<RpcException>(() => care.PatientSummary(new PatientSummaryRequest { User = munich, Linkage = linkage }, As(Coordinator)));
        var unknown = await Assert.ThrowsAsync<RpcException>(() => care.PatientSummary(new PatientSummaryRequest { User = munich, Linkage = "no-such-pseudonym" }, As(Coordinator)));

        Assert.Equal((StatusCode.NotFound, "not_shared"), (denied.StatusCode, denied.Trailers.GetValue("midia-site-status")));
        Assert.Equal((denied.StatusCode, denied.Status.Detail, "not_shared"), (unknown.StatusCode, unknown.Status.Detail, unknown.Trailers.GetValue("midia-site-status")));
        Assert.Equal(["refused|munich|no care-sharing consent"], site.Rows("SELECT outcome, user_site, detail FROM record_access"));

        // Erlangen's own clinician sees erlangen's data regardless.
        var own = await care.PatientSummary(new PatientSummaryRequest { User = new EndUser { Name = "Dr C", Role = "clinician", Site = "erlangen" }, Linkage = linkage }, As(Coordinator));
        Assert.Equal("C50.4", Assert.Single(own.Entries).Code);

        // With care-sharing permitted, munich's clinician sees it too.
        using (var connection = SiteDatabase.Open(site.DbPath))
            new ConsentLedger(connection).Record(LocalPatient.Find(connection, "A123456789", null), ConsentPolicies.CareSharing, true, null, null);
        var shared = await care.PatientSummary(new PatientSummaryRequest { User = munich, Linkage = linkage }, As(Coordinator));
        Assert.Equal("C50.4", Assert.Single(shared.Entries).Code);
        Assert.Equal("released|munich|problems 1", site.Rows("SELECT outcome, user_site, detail FROM record_access ORDER BY id").Last());
    }

    sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task An_expired_ticket_is_a_failed_precondition_that_says_to_resolve_again()
    {
        var clock = new Clock();
        var timed = Care(new PatientTickets(clock));
        var reply = await timed.ResolvePatient(new ResolvePatientRequest { LocalId = "p1" }, As(new PeerIdentity("Dr C", "clinician", "erlangen")));
        clock.Now += PatientTickets.Lifetime;

        var expired = await Assert.ThrowsAsync<RpcException>(() => timed.OpenTicket(
            new OpenTicketRequest { User = new EndUser { Name = "Dr C", Role = "clinician", Site = "erlangen" }, Ticket = reply.Ticket }, As(Coordinator)));

        Assert.Equal(StatusCode.FailedPrecondition, expired.StatusCode);
        Assert.Contains("resolve the patient again", expired.Status.Detail);
        Assert.Equal(clock.Now.ToUnixTimeMilliseconds(), reply.ExpiresUnixMs);
    }

    [Fact]
    public async Task A_ticket_is_redeemed_only_for_the_clinician_it_was_issued_to()
    {
        var reply = await care.ResolvePatient(new ResolvePatientRequest { LocalId = "Patient/p1" }, As(new PeerIdentity("Dr C", "clinician", "erlangen")));

        var refused = await Assert.ThrowsAsync<RpcException>(() => care.OpenTicket(
            new OpenTicketRequest { User = new EndUser { Name = "Dr Other", Role = "clinician", Site = "erlangen" }, Ticket = reply.Ticket }, As(Coordinator)));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
    }
}
