using Midia.Coordinator.Research;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;

namespace Midia.Coordinator.Tests;

public sealed class CountAggregationTests
{
    static SiteResult Ok(string site, long? value, bool obfuscated = true) => new()
    {
        Site = site,
        Status = SiteStatus.Ok,
        Count = value is { } v ? new ReleasedCount { Value = v, Obfuscated = obfuscated, Treatment = obfuscated ? "rounded to 10" : "exact" } : new ReleasedCount { BelowThreshold = true, Threshold = 10 },
    };

    static SiteResult Failed(string site, SiteStatus status) => new() { Site = site, Status = status, Message = "x" };

    [Fact]
    public void TheTotalIsTheSumOfReleasedValuesAndObfuscatedIfAnyPartIs()
    {
        var total = CountAggregation.Total([Ok("a", 10, obfuscated: false), Ok("b", 7, obfuscated: false), Ok("c", 30)]);
        Assert.Equal(47, total.Value);
        Assert.True(total.Obfuscated);
        Assert.Contains("some obfuscated", total.Explanation);
    }

    [Fact]
    public void ExactPartsGiveAnExactTotal()
    {
        var total = CountAggregation.Total([Ok("a", 10, false), Ok("b", 7, false)]);
        Assert.Equal(17, total.Value);
        Assert.False(total.Obfuscated);
        Assert.StartsWith("sum of 2 sites' exact counts", total.Explanation);
    }

    [Fact]
    public void ATotalBelowTheMinimumIsNotShown()
    {
        var total = CountAggregation.Total([Ok("a", 1, false), Ok("b", 1, false)], minTotal: 3);
        Assert.False(total.HasValue);
        Assert.True(total.BelowThreshold);
        Assert.Contains("below 3", total.Explanation);
    }

    [Fact]
    public void SitesBelowThresholdAndFailedSitesContributeNothingAndAreNamed()
    {
        var total = CountAggregation.Total([Ok("a", 40), Ok("b", null), Failed("c", SiteStatus.Timeout), Failed("d", SiteStatus.NotApproved)]);
        Assert.Equal(40, total.Value);
        Assert.Equal((1, 1, 2), (total.SitesCounted, total.SitesBelowThreshold, total.SitesMissing));
        Assert.Contains("1 site below its threshold (b) contributes nothing", total.Explanation);
        Assert.Contains("c: timeout", total.Explanation);
        Assert.Contains("d: not_approved", total.Explanation);
    }

    [Fact]
    public void WhenEverySiteIsBelowThresholdTheTotalIsBelowThresholdWithoutValue()
    {
        var total = CountAggregation.Total([Ok("a", null), Ok("b", null)]);
        Assert.False(total.HasValue);
        Assert.True(total.BelowThreshold);
    }

    [Fact]
    public void WhenNoSiteAnswersThereIsNoValueAndNothingIsClaimedBelowThreshold()
    {
        var total = CountAggregation.Total([Failed("a", SiteStatus.Unavailable)]);
        Assert.False(total.HasValue);
        Assert.False(total.BelowThreshold);
        Assert.StartsWith("no site answered with a number", total.Explanation);
    }

    [Fact]
    public void StratifiedTotalsAreSumsPerStratumWithoutAnOverallNumber()
    {
        static SiteResult Strata(string site, long? female, long? male) => new()
        {
            Site = site,
            Status = SiteStatus.Ok,
            Strata =
            {
                new Stratum { Key = { ["sex"] = "female" }, Count = female is { } f ? new ReleasedCount { Value = f, Obfuscated = true } : new ReleasedCount { BelowThreshold = true } },
                new Stratum { Key = { ["sex"] = "male" }, Count = male is { } m ? new ReleasedCount { Value = m, Obfuscated = true } : new ReleasedCount { BelowThreshold = true } },
            },
        };

        var total = CountAggregation.Total([Strata("a", 20, null), Strata("b", 10, null), Strata("c", null, null), Failed("d", SiteStatus.Timeout)], stratified: true);

        Assert.False(total.HasValue);
        Assert.Equal(30, total.Strata.Single(s => s.Key["sex"] == "female").Value);
        Assert.True(total.Strata.Single(s => s.Key["sex"] == "male").BelowThreshold);
        Assert.False(total.Strata.Single(s => s.Key["sex"] == "male").HasValue);
        Assert.Equal((2, 1, 1), (total.SitesCounted, total.SitesBelowThreshold, total.SitesMissing));
        Assert.StartsWith("per-stratum sums of 2 sites' released obfuscated counts", total.Explanation);
        Assert.Contains("1 site with every stratum below threshold (c)", total.Explanation);
    }
}
