using System.Security.Cryptography;
using Midia.Node.Disclosure;
using Midia.Node.Policy;
using Midia.Node.Tests.Policy;
using Xunit;

namespace Midia.Node.Tests.Disclosure;

public sealed class DisclosureControlTests
{
    static readonly byte[] Secret = SHA256.HashData("test site secret"u8);

    static long Noise(decimal epsilon, string hash)
    {
        var setting = new DisclosureSetting(QueryTypes.CohortCount, epsilon, 1, 0, false);
        var (s, t) = setting.EpsilonFraction;
        using var stream = new NoiseStream(DisclosureControl.NoiseKey(Secret, QueryTypes.CohortCount, hash, 1, ""));
        return DiscreteLaplace.Sample(stream, s, t);
    }

    [Fact]
    public void TheSameQuestionOnTheSameDataGetsTheSameAnswer()
    {
        using var site = new ScratchSite();
        var first = new DisclosureControl(site.Connection).Release(1234, QueryTypes.CohortCount, "hash-a", 7);
        for (int i = 0; i < 5; i++)
            Assert.Equal(first, new DisclosureControl(site.Connection).Release(1234, QueryTypes.CohortCount, "hash-a", 7));
        Assert.True(first.Obfuscated);
        Assert.Equal(0, first.Value % 10);
    }

    [Fact]
    public void TheSiteSecretIsMadeOnceAndDiffersBetweenSites()
    {
        using var a = new ScratchSite();
        using var b = new ScratchSite();
        var secretA = new DisclosureControl(a.Connection).SiteSecret();
        Assert.Equal(32, secretA.Length);
        Assert.Equal(secretA, new DisclosureControl(a.Connection).SiteSecret());
        Assert.NotEqual(secretA, new DisclosureControl(b.Connection).SiteSecret());
    }

    [Fact]
    public void NoiseIsIndependentAcrossQuestionsDataVersionsAndCells()
    {
        // Pearson correlation of the noise of paired keys: |r| within 4 standard errors of 0.
        const int n = 4000;
        double Correlation(Func<int, string> left, Func<int, string> right)
        {
            var x = Enumerable.Range(0, n).Select(i => (double)Noise(0.5m, left(i))).ToArray();
            var y = Enumerable.Range(0, n).Select(i => (double)Noise(0.5m, right(i))).ToArray();
            double mx = x.Average(), my = y.Average();
            double sxy = 0, sxx = 0, syy = 0;
            for (int i = 0; i < n; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) * (x[i] - mx); syy += (y[i] - my) * (y[i] - my); }
            return sxy / Math.Sqrt(sxx * syy);
        }
        Assert.InRange(Correlation(i => $"q{i}", i => $"q{i}x"), -4 / Math.Sqrt(n), 4 / Math.Sqrt(n));
        Assert.Equal(1.0, Correlation(i => $"q{i}", i => $"q{i}"), 9);

        var keys = new HashSet<string>();
        foreach (var (hash, version, cell) in new[] { ("h", 1L, ""), ("h", 2L, ""), ("h", 1L, "sex=female"), ("h2", 1L, ""), ("hh", 1L, "") })
            keys.Add(Convert.ToHexString(DisclosureControl.NoiseKey(Secret, QueryTypes.CohortCount, hash, version, cell)));
        keys.Add(Convert.ToHexString(DisclosureControl.NoiseKey(Secret, QueryTypes.StratifiedCount, "h", 1, "")));
        Assert.Equal(6, keys.Count);
    }

    /// <summary>Chi-square goodness of fit of 20,000 samples (one per key) against P(k) ∝ exp(-ε|k|).</summary>
    [Theory]
    [InlineData(0.5)]
    [InlineData(1.25)]
    [InlineData(0.1)]
    public void TheNoiseHasTheConfiguredDiscreteLaplaceDistribution(double epsilonValue)
    {
        var epsilon = (decimal)epsilonValue;
        const int samples = 20000;
        var counts = new Dictionary<long, int>();
        for (int i = 0; i < samples; i++)
        {
            var k = Noise(epsilon, $"question-{i}");
            counts[k] = counts.GetValueOrDefault(k) + 1;
        }
        double q = Math.Exp(-epsilonValue);
        double P(long k) => (1 - q) / (1 + q) * Math.Pow(q, Math.Abs(k));
        // Bins: every k with expected count ≥ 10, plus the two tails.
        long edge = 0;
        while (samples * P(edge + 1) >= 10) edge++;
        double chi = 0;
        int bins = 0;
        for (long k = -edge; k <= edge; k++)
        {
            double expected = samples * P(k);
            chi += Math.Pow(counts.GetValueOrDefault(k) - expected, 2) / expected;
            bins++;
        }
        double tail = samples * (1 - Enumerable.Range((int)-edge, (int)(2 * edge + 1)).Sum(k => P(k))) / 2;
        chi += Math.Pow(counts.Where(c => c.Key > edge).Sum(c => c.Value) - tail, 2) / tail;
        chi += Math.Pow(counts.Where(c => c.Key < -edge).Sum(c => c.Value) - tail, 2) / tail;
        bins += 2;
        // Critical value at p = 0.001 (Wilson–Hilferty): a correct sampler fails this 1 time in 1000 seeds.
        int df = bins - 1;
        double critical = df * Math.Pow(1 - 2.0 / (9 * df) + 3.09 * Math.Sqrt(2.0 / (9 * df)), 3);
        Assert.True(chi < critical, $"chi-square {chi:F1} over {bins} bins, critical {critical:F1}");
        // And the spread: variance 2q/(1-q)^2.
        var mean = counts.Sum(c => (double)c.Key * c.Value) / samples;
        var variance = counts.Sum(c => (c.Key - mean) * (c.Key - mean) * c.Value) / samples;
        Assert.InRange(variance / (2 * q / ((1 - q) * (1 - q))), 0.93, 1.07);
    }

    [Fact]
    public void ASamplerWithTheWrongScaleFailsTheSameTest()
    {
        // The statistical test has teeth: samples made with ε 0.5 do not pass as ε 0.6.
        const int samples = 20000;
        double q = Math.Exp(-0.6);
        double P(long k) => (1 - q) / (1 + q) * Math.Pow(q, Math.Abs(k));
        var counts = Enumerable.Range(0, samples).Select(i => Noise(0.5m, $"question-{i}")).GroupBy(k => k).ToDictionary(g => g.Key, g => g.Count());
        double chi = 0;
        for (long k = -8; k <= 8; k++) chi += Math.Pow(counts.GetValueOrDefault(k) - samples * P(k), 2) / (samples * P(k));
        Assert.True(chi > 39.3, $"chi-square {chi:F1} should exceed the p = 0.001 critical value for 16 df");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 2)]
    [InlineData(3, 7)]
    [InlineData(5, 2)]
    [InlineData(0, 1)]
    public void BernoulliOfExpMinusGammaHasProbabilityExpMinusGamma(long n, long d)
    {
        using var stream = new NoiseStream(SHA256.HashData(BitConverter.GetBytes(n * 1000 + d)));
        const int trials = 40000;
        var hits = Enumerable.Range(0, trials).Count(_ => DiscreteLaplace.BernoulliExp(stream, n, d));
        var p = Math.Exp(-(double)n / d);
        var sd = Math.Sqrt(trials * p * (1 - p));
        Assert.InRange(hits, trials * p - 5 * sd - 0.5, trials * p + 5 * sd + 0.5);
    }

    [Fact]
    public void ReleasedValuesAreTheNoisyCountFlooredAtZeroAndRoundedToTheNearestMultiple()
    {
        foreach (var round in new[] { 1, 5, 10 })
            for (int i = 0; i < 300; i++)
            {
                var trueCount = 10 + i % 25;
                var setting = new DisclosureSetting(QueryTypes.CohortCount, 0.2m, round, null, false);
                var key = DisclosureControl.NoiseKey(Secret, QueryTypes.CohortCount, $"r{i}", 3, "");
                long noise;
                using (var s = new NoiseStream(key)) noise = DiscreteLaplace.Sample(s, 1, 5);
                using var stream = new NoiseStream(key);
                var released = DisclosureControl.Release(trueCount, setting, stream);
                var noisy = Math.Max(0, trueCount + noise);
                var expected = (long)Math.Round((double)noisy / round, MidpointRounding.AwayFromZero) * round;
                Assert.Equal(expected, released.Value);
                Assert.True(released.Obfuscated);
                Assert.False(released.BelowThreshold);
                Assert.Equal(round > 1 ? $"discrete Laplace noise (epsilon 0.2), rounded to {round}" : "discrete Laplace noise (epsilon 0.2)", released.Treatment);
            }
    }

    [Fact]
    public void ATrueCountBelowTheThresholdIsReleasedOnlyAsBelowThreshold()
    {
        var setting = new DisclosureSetting(QueryTypes.CohortCount, null, null, null, false);
        using var stream = new NoiseStream(Secret);
        var below = DisclosureControl.Release(9, setting, stream);
        Assert.Equal(new ReleasedCount(null, false, true, "fewer than 10", 10), below);
        Assert.Equal("below threshold (fewer than 10)", below.Summary);
        var at = DisclosureControl.Release(10, setting, stream);
        Assert.False(at.BelowThreshold);
        Assert.NotNull(at.Value);
        Assert.Equal($"≈{at.Value}: discrete Laplace noise (epsilon 0.5), rounded to 10", at.Summary);
    }

    [Fact]
    public void ExactReleasesTheTrueCountWithThresholdZeroUnlessOneIsSet()
    {
        using var stream = new NoiseStream(Secret);
        var exact = new DisclosureSetting(QueryTypes.CohortCount, null, null, null, true);
        Assert.Equal(new ReleasedCount(0, false, false, "exact", 0), DisclosureControl.Release(0, exact, stream));
        Assert.Equal(new ReleasedCount(3, false, false, "exact", 0), DisclosureControl.Release(3, exact, stream));
        var exactWithThreshold = exact with { ThresholdSet = 5 };
        Assert.True(DisclosureControl.Release(4, exactWithThreshold, stream).BelowThreshold);
        Assert.Equal(5, DisclosureControl.Release(5, exactWithThreshold, stream).Value);
        Assert.Equal("5 (exact)", DisclosureControl.Release(5, exactWithThreshold, stream).Summary);
    }

    [Theory]
    [InlineData("0.5", 1, 2)]
    [InlineData("0.25", 1, 4)]
    [InlineData("1.5", 3, 2)]
    [InlineData("2", 2, 1)]
    [InlineData("0.125000", 1, 8)]
    public void EpsilonIsReadAsAnExactFraction(string text, long s, long t)
    {
        var setting = new DisclosureSetting(QueryTypes.CohortCount, DisclosureSetting.ParseEpsilon(text), null, null, false);
        Assert.Equal((s, t), setting.EpsilonFraction);
    }

    [Fact]
    public void SettingsDefaultToPrivacyMdAndChangeOnlyTheGivenFields()
    {
        using var site = new ScratchSite();
        var control = new DisclosureControl(site.Connection);
        var defaults = control.Setting(QueryTypes.StratifiedCount);
        Assert.Equal((0.5m, 10, 10, false), (defaults.Epsilon, defaults.Round, defaults.Threshold, defaults.Exact));
        control.Configure(QueryTypes.StratifiedCount, 0.25m, null, null, null);
        control.Configure(QueryTypes.StratifiedCount, null, 5, null, null);
        var changed = control.Setting(QueryTypes.StratifiedCount);
        Assert.Equal((0.25m, 5, 10, false), (changed.Epsilon, changed.Round, changed.Threshold, changed.Exact));
        control.Configure(QueryTypes.StratifiedCount, null, null, null, true);
        Assert.Equal(0, control.Setting(QueryTypes.StratifiedCount).Threshold);
        Assert.Equal(10, control.Setting(QueryTypes.CohortCount).Threshold);
        Assert.Equal("exact", control.Release(3, QueryTypes.StratifiedCount, "h", 1).Treatment);
    }
}
