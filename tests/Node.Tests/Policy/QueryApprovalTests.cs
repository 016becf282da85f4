using Midia.Node.Policy;
using Midia.Node.Store;
using Xunit;

namespace Midia.Node.Tests.Policy;

public sealed class QueryApprovalTests
{
    const int Today = 20000;

    [Fact]
    public void EveryTypeIsRefusedUntilApprovedAndTheRequestShowsAsPending()
    {
        using var site = new ScratchSite();
        var approval = new QueryApproval(site.Connection);
        foreach (var type in QueryTypes.All)
            Assert.Equal(new Decision(false, $"query type {type} not approved by the site admin"), approval.Check(type, "P1", Today));
        approval.Check(QueryTypes.CohortCount, "P1", Today);
        approval.Check(QueryTypes.CohortCount, null, Today);

        var pending = approval.Overview(Today).Pending;
        Assert.Equal(5, pending.Count);
        Assert.Equal(2, pending.Single(p => p.QueryType == QueryTypes.CohortCount && p.Project == "P1").Count);
        Assert.Equal(1, pending.Single(p => p.QueryType == QueryTypes.CohortCount && p.Project is null).Count);
        Assert.Empty(approval.Overview(Today).Approved);
    }

    [Fact]
    public void AnApprovalWithoutProjectCoversEveryProjectAndClearsTheirPendingRequests()
    {
        using var site = new ScratchSite();
        var approval = new QueryApproval(site.Connection);
        approval.Check(QueryTypes.CohortCount, "P1", Today);
        approval.Approve(QueryTypes.CohortCount, null, null);
        Assert.True(approval.Check(QueryTypes.CohortCount, "P1", Today).Allowed);
        Assert.True(approval.Check(QueryTypes.CohortCount, "any", Today + 5000).Allowed);
        Assert.True(approval.Check(QueryTypes.CohortCount, null, Today).Allowed);
        Assert.False(approval.Check(QueryTypes.StratifiedCount, "P1", Today).Allowed);
        var overview = approval.Overview(Today);
        Assert.DoesNotContain(overview.Pending, p => p.QueryType == QueryTypes.CohortCount);
        Assert.Equal(new[] { (QueryTypes.CohortCount, (string?)null) }, overview.Approved.Select(a => (a.QueryType, a.Project)));
    }

    [Fact]
    public void AProjectApprovalCoversOnlyThatProjectAndExpiresAfterItsLastDay()
    {
        using var site = new ScratchSite();
        var approval = new QueryApproval(site.Connection);
        approval.Approve(QueryTypes.StratifiedCount, "P1", Today + 10);
        Assert.True(approval.Check(QueryTypes.StratifiedCount, "P1", Today + 10).Allowed);
        Assert.False(approval.Check(QueryTypes.StratifiedCount, "P1", Today + 11).Allowed);
        Assert.False(approval.Check(QueryTypes.StratifiedCount, "P2", Today).Allowed);
        Assert.False(approval.Check(QueryTypes.StratifiedCount, null, Today).Allowed);
        var expired = approval.Overview(Today + 11);
        Assert.Empty(expired.Approved);
        Assert.Contains(expired.Denied, d => d.Project == "P1" && d.Note!.StartsWith("expired after"));
    }

    [Fact]
    public void RevokedIsDeniedAndShownAsDenied()
    {
        using var site = new ScratchSite();
        var approval = new QueryApproval(site.Connection);
        approval.Approve(QueryTypes.CohortCount, null, null);
        approval.Approve(QueryTypes.CohortCount, "P1", null);
        approval.Revoke(QueryTypes.CohortCount, "P2");
        Assert.False(approval.Check(QueryTypes.CohortCount, "P2", Today).Allowed); // a project's revocation beats the general approval
        Assert.True(approval.Check(QueryTypes.CohortCount, "P3", Today).Allowed);
        approval.Revoke(QueryTypes.CohortCount, null);
        Assert.False(approval.Check(QueryTypes.CohortCount, "P1", Today).Allowed); // revoking the type revokes project approvals too
        Assert.False(approval.Check(QueryTypes.CohortCount, "P3", Today).Allowed);
        var overview = approval.Overview(Today);
        Assert.Empty(overview.Approved);
        Assert.Equal(3, overview.Denied.Count(d => d.QueryType == QueryTypes.CohortCount && d.Note == "revoked"));
        Assert.DoesNotContain(overview.Pending, p => p.QueryType == QueryTypes.CohortCount);
    }

    [Fact]
    public void AnApprovalFromAnotherProcessIsHonouredOnTheVeryNextCheck()
    {
        using var site = new ScratchSite();
        var serving = new QueryApproval(site.Connection);
        Assert.False(serving.Check(QueryTypes.PatientSummary, null, Today).Allowed);
        using (var admin = SiteDatabase.Open(site.Path)) new QueryApproval(admin).Approve(QueryTypes.PatientSummary, null, null);
        Assert.True(serving.Check(QueryTypes.PatientSummary, null, Today).Allowed);
        using (var admin = SiteDatabase.Open(site.Path)) new QueryApproval(admin).Revoke(QueryTypes.PatientSummary, null);
        Assert.False(serving.Check(QueryTypes.PatientSummary, null, Today).Allowed);
    }

    /// <summary>Random approve/revoke sequences against a plain model of the documented rules.</summary>
    [Fact]
    public void ChecksFollowTheDocumentedRulesOverRandomAdminActions()
    {
        using var site = new ScratchSite();
        var approval = new QueryApproval(site.Connection);
        var random = new Random(5);
        string?[] projects = [null, "A", "B"];
        // Model: per (type, project) the last action: (approved, until); revoking the type revokes all its rows.
        var model = new Dictionary<(string, string?), (bool Approved, int? Until)>();
        for (int step = 0; step < 400; step++)
        {
            var type = QueryTypes.All[random.Next(2)];
            var project = projects[random.Next(3)];
            if (random.Next(3) > 0)
            {
                int? until = random.Next(2) == 0 ? null : Today + random.Next(-3, 4);
                approval.Approve(type, project, until);
                model[(type, project)] = (true, until);
            }
            else
            {
                approval.Revoke(type, project);
                model[(type, project)] = (false, null);
                if (project is null)
                    foreach (var key in model.Keys.Where(k => k.Item1 == type).ToList()) model[key] = (false, null);
            }
            foreach (var t in QueryTypes.All.Take(2))
                foreach (var p in projects)
                    for (int day = Today - 1; day <= Today + 1; day++)
                    {
                        bool Active((bool Approved, int? Until) r) => r.Approved && (r.Until is null || r.Until >= day);
                        bool hasOwn = p is not null && model.ContainsKey((t, p)), hasAll = model.ContainsKey((t, null));
                        var expected = hasOwn && !model[(t, p)].Approved ? false
                            : hasOwn && Active(model[(t, p)]) ? true
                            : hasAll && Active(model[(t, null)]);
                        Assert.Equal(expected, approval.Check(t, p, day).Allowed);
                    }
        }
    }
}
