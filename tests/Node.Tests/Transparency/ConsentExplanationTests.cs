using Midia.Node.Consent;
using Midia.Node.Store;
using Midia.Node.Tests.Query;
using Midia.Node.Transparency;

namespace Midia.Node.Tests.Transparency;

/// <summary>The plain words a patient reads for each policy today, from the provisions the site holds.</summary>
public sealed class ConsentExplanationTests : IDisposable
{
    readonly SiteFile site = new();
    static readonly int Today = Days.From(new DateOnly(2026, 11, 22));

    public void Dispose() => site.Dispose();

    string Explain(params (bool Permit, string? From, string? To)[] provisions)
    {
        var pid = site.Patient("female", new DateOnly(1970, 1, 1));
        foreach (var (permit, from, to) in provisions)
            site.Run("INSERT INTO consent_provision(pid, policy, permit, start, end, source) VALUES ($1, $2, $3, $4, $5, 'Consent/x')",
                pid, ConsentPolicies.Research, permit ? 1 : 0, from is null ? null : Days.From(DateOnly.Parse(from)), to is null ? null : Days.From(DateOnly.Parse(to)));
        var policy = new ConsentLedger(site.Connection).Explain(pid, Today).Policies.Single(p => p.Policy == ConsentPolicies.Research);
        return PatientReports.Explain(policy, Today);
    }

    [Fact]
    public void EachStateReadsAsWhatThePatientDecided()
    {
        Assert.Equal("never asked: no decision means no", Explain());
        Assert.Equal("permitted since 2020-01-01, with no end date", Explain((true, "2020-01-01", null)));
        Assert.Equal("permitted since 2020-01-01 until 2050-12-31", Explain((true, "2020-01-01", "2050-12-31")));
        Assert.Equal("revoked on 2025-03-01", Explain((true, "2020-01-01", null), (false, "2025-03-01", null)));
        Assert.Equal("denied on 2025-03-01", Explain((false, "2025-03-01", null)));
        Assert.Equal("permission ended on 2024-12-31", Explain((true, "2020-01-01", "2024-12-31")));
        Assert.Equal("not yet: permitted from 2027-01-01", Explain((true, "2027-01-01", null)));
    }
}
