using Midia.Consent.Tests.Support;
using Midia.Node.Consent;
using Midia.Node.Policy;
using Midia.Node.Store;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Grpc.Core;
using Midia.Trust;
using PatientAccessClient = Midia.Protos.Node.V1.PatientAccess.PatientAccessClient;
using PatientReportReply = Midia.Protos.Coordinator.V1.PatientReportReply;

namespace Midia.Consent.Tests;

/// <summary>
/// midia.node.v1.PatientAccess end to end (issue 10): a patient, through their home site's portal
/// certificate, reads and changes their consent; a revocation is in force at home at once, reaches
/// every other site like `consent set` (checked in each site's own ledger, not in the reply), and
/// the reply names when each site applied it. Nobody but the home site's portal, acting for a
/// patient, gets in; a refused change leaves nothing behind.
/// </summary>
public sealed class PatientAccessTests : IAsyncLifetime
{
    static readonly TestPatient AnnaErlangen = new("e-anna", "A123456789", "Meier", "Anna", new DateOnly(1960, 3, 1), "female");
    static readonly TestPatient AnnaMunich = new("m-anna", "A123456789", "Meier", "Anna", new DateOnly(1960, 3, 1), "female");
    static readonly TestPatient BenErlangen = new("e-ben", "B000000002", "Huber", "Ben", new DateOnly(1971, 7, 9), "male");
    static readonly TestPatient CarlPractice = new("p-carl", "C000000003", "Schulz", "Carl", new DateOnly(1950, 1, 1), "male");

    /// <summary>The PatientAccess RPCs the tests call, each as the generated client makes it.</summary>
    delegate AsyncUnaryCall<TReply> PatientRpc<TRequest, TReply>(PatientAccessClient client, TRequest request, CallOptions options);
    static readonly PatientRpc<PatientConsentRequest, PatientConsentReply> ConsentMethod = (client, request, options) => client.ConsentAsync(request, options);
    static readonly PatientRpc<SetPatientConsentRequest, PatientConsentReply> SetMethod = (client, request, options) => client.SetConsentAsync(request, options);
    static readonly PatientRpc<PatientAccessReportRequest, PatientReportReply> ReportMethod = (client, request, options) => client.ReportAsync(request, options);

    /// <summary>Who the portal says is signed in: (role, name, site) in the end-user metadata.</summary>
    sealed record Person(string Role, string Name, string Site);
    static readonly Person Patient = new("patient", "patient account 1", "erlangen");
    static readonly PatientRef Anna = new() { Kvnr = "A123456789" };

    readonly ConsentNetwork network = new("erlangen", "munich", "practice");

    public async Task InitializeAsync()
    {
        network["erlangen"].Import(AnnaErlangen, BenErlangen);
        network["munich"].Import(AnnaMunich);
        network["practice"].Import(CarlPractice);
        foreach (var node in network.Nodes) node.Approve(QueryTypes.PatientReport);
        await network.StartAllAsync();
    }

    public async Task DisposeAsync() => await network.DisposeAsync();

    /// <summary>A caller of erlangen's node: by default erlangen's portal acting for the patient.</summary>
    sealed record Caller(CallInvoker Invoker, Person? For);
    Caller Portal(string site = "erlangen", string role = "portal", Person? acting = null) => new(network.Client(role, $"{role}-{site}", site, node: "erlangen"), acting ?? Patient);
    Caller Direct(string role, string site = "erlangen") => new(network.Client(role, $"{role}-{site}", site, node: "erlangen"), null);

    static async Task<TReply> Call<TRequest, TReply>(Caller caller, PatientRpc<TRequest, TReply> method, TRequest request)
    {
        var headers = caller.For is { } p ? new Metadata { Delegation.EndUserEntry(p.Role, p.Name, p.Site) } : null;
        using var call = method(new PatientAccessClient(caller.Invoker), request, new CallOptions(headers: headers, deadline: DateTime.UtcNow.AddSeconds(60)));
        return await call.ResponseAsync;
    }

    [Fact]
    public async Task ARevocationClickedInThePortalIsInForceAtHomeAtOnceReachesEverySiteAndSaysWhen()
    {
        var before = await Call(Portal(), ConsentMethod, new PatientConsentRequest { Patient = Anna });
        Assert.Equal(["research True", "care-sharing False"], before.Purposes.Select(p => $"{p.Purpose} {p.Permitted}"));
        Assert.StartsWith("permitted", before.Purposes[0].Explanation);
        Assert.Equal("never asked: no decision means no", before.Purposes[1].Explanation);
        Assert.All(before.Purposes, p => Assert.Null(p.LastChange));
        Assert.True(network["munich"].Permitted(AnnaMunich.ResourceId));

        var after = await Call(Portal(), SetMethod, new SetPatientConsentRequest { Patient = Anna, Purpose = "research", Permit = false });
        // In force at home before the network is involved — read from erlangen's own ledger.
        Assert.False(network["erlangen"].Permitted(AnnaErlangen.ResourceId));
        Assert.True(network["erlangen"].Permitted(BenErlangen.ResourceId));
        var research = after.Purposes.Single(p => p.Purpose == "research");
        Assert.False(research.Permitted);
        Assert.StartsWith("revoked on ", research.Explanation);
        Assert.False(research.LastChange.Permit);

        // Carried to munich by the coordinator, as `consent set` is.
        await ConsentNetwork.Eventually(() => !network["munich"].Permitted(AnnaMunich.ResourceId), "munich honours the revocation made in erlangen's portal");
        Assert.True(network["practice"].Permitted(CarlPractice.ResourceId));
        var log = Assert.Single(network.Log());
        Assert.Equal(("erlangen", ConsentPolicies.Research, false), (log.Origin, log.Policy, log.Permit));

        // The reply now says, per site, that and when it applied the change.
        PurposeConsent spread = research;
        await ConsentNetwork.Eventually(() =>
        {
            spread = Call(Portal(), ConsentMethod, new PatientConsentRequest { Patient = Anna }).GetAwaiter().GetResult().Purposes.Single(p => p.Purpose == "research");
            return spread.LastChange.Sites.Count == 3 && spread.LastChange.Sites.All(s => s.Applied);
        }, "every site acknowledged the change");
        Assert.Equal(log.Seq, spread.LastChange.Seq);
        Assert.Equal(["erlangen", "munich", "practice"], spread.LastChange.Sites.Select(s => s.Site));
        Assert.All(spread.LastChange.Sites, s => Assert.True(DateTime.TryParse(s.AppliedAt, out _), $"{s.Site}: applied_at '{s.AppliedAt}'"));

        // Care-sharing, revoked right after, takes the same path and gets its own spread.
        await Call(Portal(), SetMethod, new SetPatientConsentRequest { Patient = Anna, Purpose = "care-sharing", Permit = false });
        PurposeConsent sharing = research;
        await ConsentNetwork.Eventually(() =>
        {
            sharing = Call(Portal(), ConsentMethod, new PatientConsentRequest { Patient = Anna }).GetAwaiter().GetResult().Purposes.Single(p => p.Purpose == "care-sharing");
            return sharing.LastChange.Sites.Count == 3 && sharing.LastChange.Sites.All(s => s.Applied);
        }, $"every site acknowledged the care-sharing change: {sharing}");
        Assert.Equal(2, sharing.LastChange.Seq);

        // Granting again takes the same path back.
        await Call(Portal(), SetMethod, new SetPatientConsentRequest { Patient = new PatientRef { LocalId = "e-anna" }, Purpose = "research", Permit = true });
        await ConsentNetwork.Eventually(() => network["munich"].Permitted(AnnaMunich.ResourceId), "munich honours the renewed permission");
        Assert.Equal([false, false, true], network.Log().Select(l => l.Permit));
    }

    [Fact]
    public async Task ASiteThatIsDownShowsTheChangeAsNotYetAppliedUntilItIsBack()
    {
        await network["munich"].StopAsync();
        await Call(Portal(), SetMethod, new SetPatientConsentRequest { Patient = Anna, Purpose = "research", Permit = false });

        PurposeConsent research = null!;
        await ConsentNetwork.Eventually(() =>
        {
            research = Call(Portal(), ConsentMethod, new PatientConsentRequest { Patient = Anna }).GetAwaiter().GetResult().Purposes.Single(p => p.Purpose == "research");
            return research.LastChange.Sites.Count(s => s.Applied) == 2;
        }, "erlangen and practice acknowledged the change");
        var munich = research.LastChange.Sites.Single(s => s.Site == "munich");
        Assert.False(munich.Applied);
        Assert.Equal("", munich.AppliedAt);

        await network["munich"].StartAsync();
        await ConsentNetwork.Eventually(() =>
        {
            research = Call(Portal(), ConsentMethod, new PatientConsentRequest { Patient = Anna }).GetAwaiter().GetResult().Purposes.Single(p => p.Purpose == "research");
            return research.LastChange.Sites.All(s => s.Applied);
        }, "munich applied the change once it was back");
        Assert.False(network["munich"].Permitted(AnnaMunich.ResourceId));
        // When munich applied it is no earlier than when erlangen did: it was down in between.
        var at = research.LastChange.Sites.ToDictionary(s => s.Site, s => DateTime.Parse(s.AppliedAt, System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(at["munich"] >= at["erlangen"], $"munich {at["munich"]:O}, erlangen {at["erlangen"]:O}");
    }

    [Fact]
    public async Task OnlyTheHomeSitesPortalActingForAPatientGetsInAndARefusedChangeLeavesNothing()
    {
        async Task<RpcException> Refused(Caller caller, SetPatientConsentRequest request) =>
            await Assert.ThrowsAsync<RpcException>(() => Call(caller, SetMethod, request));
        SetPatientConsentRequest Revoke(PatientRef patient, string purpose = "research") => new() { Patient = patient, Purpose = purpose, Permit = false };

        // Munich's portal may not act for a patient of erlangen (delegation), nor for one it calls its own.
        Assert.Equal(StatusCode.PermissionDenied, (await Refused(Portal("munich"), Revoke(Anna))).StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, (await Refused(Portal("munich", acting: Patient with { Site = "munich" }), Revoke(Anna))).StatusCode);
        // A portal acting for a researcher or clinician, the portal itself, a patient, clinician or node certificate of erlangen directly.
        Assert.Equal(StatusCode.PermissionDenied, (await Refused(Portal(acting: new Person("researcher", "Dr Ada", "erlangen")), Revoke(Anna))).StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, (await Refused(Portal(acting: new Person("clinician", "Dr Bo", "erlangen")), Revoke(Anna))).StatusCode);
        foreach (var role in new[] { "portal", "patient", "clinician", "node" })
            Assert.Equal(StatusCode.PermissionDenied, (await Refused(Direct(role), Revoke(Anna))).StatusCode);
        var unknown = await Refused(Portal(), Revoke(new PatientRef { Kvnr = "Z999999999" }));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.DoesNotContain("Z999999999", unknown.Status.Detail);
        var purpose = await Refused(Portal(), Revoke(Anna, "marketing"));
        Assert.Equal(StatusCode.InvalidArgument, purpose.StatusCode);
        Assert.Contains("research, care-sharing", purpose.Status.Detail);
        Assert.Equal(StatusCode.InvalidArgument, (await Refused(Portal(), Revoke(new PatientRef()))).StatusCode);

        // Nothing was recorded anywhere: no outbox row, consent unchanged.
        Assert.Empty(network["erlangen"].Rows("SELECT id FROM consent_change"));
        Assert.True(network["erlangen"].Permitted(AnnaErlangen.ResourceId));
        Assert.Empty(network.Log());
    }

    [Fact]
    public async Task TheReportComesFromEverySiteThatKnowsThePatientAndRecordsTheAsking()
    {
        var report = await Call(Portal(), ReportMethod, new PatientAccessReportRequest { Patient = Anna });
        Assert.Equal(["erlangen Ok", "munich Ok", "practice NotShared"], report.Sites.Select(s => $"{s.Site} {s.Status}"));
        Assert.True(report.Sites.Single(s => s.Site == "munich").Report.Consent.Single(c => c.Policy == ConsentPolicies.Research).Permitted);
        // Munich recorded who asked: erlangen's node, on the patient's behalf.
        Assert.Contains(network["munich"].Rows("SELECT purpose, user_role, user_site FROM record_access"), r => r == "patient-report|node|erlangen");
        Assert.Empty(network["practice"].Rows("SELECT id FROM record_access"));
    }
}
