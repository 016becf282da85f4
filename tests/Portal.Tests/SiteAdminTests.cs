using System.Net;
using Midia.Node.Audit;
using Midia.Node.Policy;
using Midia.Node.Store;
using Midia.Portal.Tests.Support;
using Grpc.Core;
using Midia.Protos.Node.V1;
using Admin = Midia.Protos.Node.V1.SiteAdmin;
using ResearchClient = Midia.Protos.Coordinator.V1.Research.ResearchClient;

namespace Midia.Portal.Tests;

/// <summary>The node's SiteAdmin service and the portal's admin view, against real servers.</summary>
public sealed class SiteAdminTests : IAsyncLifetime
{
    readonly PortalTestNetwork network = new("erlangen", "munich");
    Uri portal = null!;

    public async Task InitializeAsync()
    {
        await network.StartAsync();
        portal = (await network["erlangen"].StartPortalAsync(("root", "site-admin", null), ("ada", "researcher", null))).Address;
    }

    public async Task DisposeAsync() => await network.DisposeAsync();

    /// <summary>The node's SiteAdmin client over <paramref name="invoker"/>.</summary>
    static Admin.SiteAdminClient Client(CallInvoker invoker) => new(invoker);

    [Fact]
    public async Task Only_this_sites_admins_may_administer_its_node()
    {
        var own = Client(network.Client(network.Material("site-admin", "Admin Eva", "erlangen"), "erlangen"));
        var reply = await own.ApproveAsync(new ApproveRequest { QueryType = "cohort-count" }, PortalTestNetwork.Deadline());
        Assert.Contains(reply.Approved, a => a.QueryType == "cohort-count" && a.Project == "");

        // The same decision as `midia-node admin approve`: the CLI's class reads it from the file.
        using (var connection = SiteDatabase.Open(network["erlangen"].DbPath))
            Assert.True(new QueryApproval(connection).Check("cohort-count", null, Days.Today()).Allowed);

        var other = Client(network.Client(network.Material("site-admin", "Admin Max", "munich"), "erlangen"));
        var e = await Assert.ThrowsAsync<RpcException>(async () => await other.ListQueryTypesAsync(new(), PortalTestNetwork.Deadline()));
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("site admin of 'munich'", e.Status.Detail);

        var researcher = Client(network.Client(network.Material("researcher", "Dr R"), "erlangen"));
        e = await Assert.ThrowsAsync<RpcException>(async () => await researcher.AuditAsync(new(), PortalTestNetwork.Deadline()));
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);

        // Refused by the rules before any service code ran, and still in the node's audit: who, which RPC, why not.
        using (var connection = SiteDatabase.Open(network["erlangen"].DbPath))
        {
            var refused = new AuditLog(connection).Read().Where(a => a.Outcome == AuditOutcome.Refused).ToList();
            Assert.Equal([("Admin Max", "site-admin", "rpc SiteAdmin/ListQueryTypes"), ("Dr R", "researcher", "rpc SiteAdmin/Audit")],
                refused.Select(a => (a.UserName, a.UserRole, a.QueryType)));
            Assert.Contains("site admin of 'munich'", refused[0].Reason);
            Assert.Contains("requires role site-admin", refused[1].Reason);
        }
    }

    [Fact]
    public async Task Bad_input_is_invalid_argument_and_changes_nothing()
    {
        var own = Client(network.Client(network.Material("site-admin", "Admin Eva", "erlangen"), "erlangen"));
        var e = await Assert.ThrowsAsync<RpcException>(async () => await own.ApproveAsync(new ApproveRequest { QueryType = "everything" }, PortalTestNetwork.Deadline()));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("unknown query type 'everything'", e.Status.Detail);
        e = await Assert.ThrowsAsync<RpcException>(async () => await own.SetDisclosureAsync(new SetDisclosureRequest { QueryType = "cohort-count", Epsilon = "lots" }, PortalTestNetwork.Deadline()));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("epsilon", e.Status.Detail);
        var rules = await own.ListDisclosureAsync(new(), PortalTestNetwork.Deadline());
        Assert.Equal("0.5", rules.Rules.Single(r => r.QueryType == "cohort-count").Epsilon);
        var types = await own.ListQueryTypesAsync(new(), PortalTestNetwork.Deadline());
        Assert.Empty(types.Approved);
    }

    [Fact]
    public async Task An_admin_approves_a_pending_request_in_the_portal_and_sees_it_in_the_audit()
    {
        // A researcher's count reaches erlangen, which refuses it: cohort-count is pending there.
        using (var researcher = new Browser(portal))
        {
            await researcher.SignInAsync("ada");
            var (status, _, _) = await researcher.GetPageAsync("/Admin");
            Assert.Equal(HttpStatusCode.Redirect, status);
        }
        var coordinator = new ResearchClient(network.Client(network.Material("researcher", "Dr Count")));
        using (var call = coordinator.Count(new Midia.Protos.Coordinator.V1.CountRequest { CcdlJson = Queries.Women }, PortalTestNetwork.Deadline()))
            while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }

        using var admin = new Browser(portal);
        Assert.Equal("/Admin", await admin.SignInAsync("root"));
        var page = Browser.Text((await admin.GetPageAsync("/Admin")).Body);
        Assert.True(page.Contains("Pending requests Query type Project Requests Last request Decision cohort-count every project 1 "), page);

        var (status2, _, location) = await admin.PostFormAsync("/Admin", "/Admin?handler=Approve", [new("queryType", "cohort-count"), new("project", "")]);
        Assert.Equal((HttpStatusCode.Redirect, "/Admin"), (status2, location));
        page = Browser.Text((await admin.GetPageAsync("/Admin")).Body);
        Assert.Contains("Approved cohort-count for every project.", page);
        Assert.Contains("No pending requests.", page);
        using (var connection = SiteDatabase.Open(network["erlangen"].DbPath))
            Assert.True(new QueryApproval(connection).Check("cohort-count", null, Days.Today()).Allowed);

        // Disclosure through the form; the node's own class reads the new setting.
        var (status3, _, _) = await admin.PostFormAsync("/Admin/Disclosure", "/Admin/Disclosure", [new("queryType", "cohort-count"), new("epsilon", "1,5"), new("round", "5"), new("threshold", "3")]);
        Assert.Equal(HttpStatusCode.Redirect, status3);
        using (var connection = SiteDatabase.Open(network["erlangen"].DbPath))
        {
            var setting = new Midia.Node.Disclosure.DisclosureControl(connection).Setting("cohort-count");
            Assert.Equal((1.5m, 5, 3, false), (setting.Epsilon, setting.Round, setting.Threshold, setting.Exact));
        }

        // The audit: the refused count (by the coordinator's researcher) and the admin's decisions, by person and portal.
        var audit = Browser.Text((await admin.GetPageAsync("/Admin/Audit?outcome=answered&user=root")).Body);
        Assert.Contains("root via portal-erlangen", audit);
        Assert.Contains("site admin: approved cohort-count for every project", audit);
        Assert.DoesNotContain("Dr Count", audit);
        var refused = Browser.Text((await admin.GetPageAsync("/Admin/Audit?outcome=refused")).Body);
        Assert.Contains("Dr Count", refused);
        Assert.Contains("1 matching entries", refused);
        var (badStatus, badBody, _) = await admin.GetPageAsync("/Admin/Audit?since=yesterday");
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Assert.Contains("since", Browser.Text(badBody));
    }
}

public static class Queries
{
    public const string Women = """
        {"version": "2", "display": "Women", "inclusionCriteria": [[{"context": {"system": "fdpg.mii.cds", "code": "Patient", "display": "Patient"},
          "termCodes": [{"system": "http://loinc.org", "code": "LL2191-6", "display": "Geschlecht"}],
          "valueFilter": {"type": "concept", "selectedConcepts": [{"system": "http://hl7.org/fhir/administrative-gender", "code": "female", "display": "female"}]}}]]}
        """;
}
