using System.Security.Cryptography;
using Midia.Node.Disclosure;
using Midia.Node.Policy;
using Xunit;
using Xunit.Abstractions;

namespace Midia.Node.Tests.Attacks;

/// <summary>
/// What an attacker learns from the node's released numbers, measured over many trials against the
/// brute-force truth: the averaging attack (the same question asked again, or re-worded so that it
/// is a new question with the same cohort) and the differencing attack (two questions whose
/// cohorts differ by one person). Uses the node's own release path (keyed noise stream, discrete
/// Laplace, threshold, rounding) with the default setting ε 0.5, rounded to 10, threshold 10.
/// </summary>
public sealed class DisclosureAttackTests(ITestOutputHelper output)
{
    static readonly byte[] Secret = SHA256.HashData("disclosure attack test site"u8);
    static readonly DisclosureSetting Default = new(QueryTypes.CohortCount, null, null, null, false);
    static readonly DisclosureSetting Exact = new(QueryTypes.CohortCount, null, null, 0, true);

    /// <summary>One release, as DisclosureControl.Release makes it for a question (its canonical hash) on data version 1.</summary>
    static ReleasedCount Ask(long trueCount, string question, DisclosureSetting? setting = null)
    {
        using var noise = new NoiseStream(DisclosureControl.NoiseKey(Secret, QueryTypes.CohortCount, question, 1, ""));
        return DisclosureControl.Release(trueCount, setting ?? Default, noise);
    }

    /// <summary>P(released value | true count c) under the default setting: what an ideal attacker knows about the mechanism.</summary>
    static double Likelihood(long released, long c)
    {
        if (c < DisclosureSetting.DefaultThreshold) return 0;
        var alpha = Math.Exp(-(double)DisclosureSetting.DefaultEpsilon);
        double p = 0;
        for (var k = -80; k <= 80; k++)
        {
            var v = Math.Max(0, c + k);
            if ((v + 5) / 10 * 10 == released) p += (1 - alpha) / (1 + alpha) * Math.Pow(alpha, Math.Abs(k));
        }
        return p;
    }

    /// <summary>The maximum-likelihood true count behind a set of released values (each from independent noise).</summary>
    static long BestGuess(IReadOnlyList<long> released)
    {
        var histogram = released.GroupBy(v => v).Select(g => (Value: g.Key, Times: g.Count())).ToList();
        long best = -1;
        var bestLog = double.NegativeInfinity;
        for (var c = Math.Max(DisclosureSetting.DefaultThreshold, released.Min() - 60); c <= released.Max() + 60; c++)
        {
            var log = histogram.Sum(h => h.Times * Math.Log(Likelihood(h.Value, c)));
            if (log > bestLog) (best, bestLog) = (c, log);
        }
        return best;
    }

    [Fact]
    public void RepeatingAQuestionAThousandTimesReturnsOneAnswerSoAveragingGainsNothing()
    {
        var random = new Random(8_0301);
        int exactAfterOne = 0, exactAfterThousand = 0;
        const int cohorts = 100;
        for (var i = 0; i < cohorts; i++)
        {
            var truth = random.Next(10, 400);
            var answers = Enumerable.Range(0, 1000).Select(_ => Ask(truth, $"question-{i}").Value!.Value).ToList();
            Assert.Single(answers.Distinct());
            if (BestGuess(answers.Take(1).ToList()) == truth) exactAfterOne++;
            if (BestGuess(answers) == truth) exactAfterThousand++;
        }
        output.WriteLine($"identical repeats: {cohorts} cohorts x 1,000 asks, one distinct answer each; exact count recovered {exactAfterOne}/{cohorts} after 1 ask, {exactAfterThousand}/{cohorts} after 1,000");
        Assert.Equal(exactAfterOne, exactAfterThousand);
        Assert.True(exactAfterOne < cohorts / 2, $"{exactAfterOne}/{cohorts} exact from one answer: the noise is too weak");
    }

    /// <summary>
    /// The residual risk: a re-worded question with the same cohort (an extra OR-code that matches
    /// nobody) is a new question with fresh noise. Averaging such rewrites recovers the count; only the
    /// coordinator's quota (50 per researcher per 7 days) limits how many there are.
    /// </summary>
    [Fact]
    public void RewordedQuestionsAverageTowardsTheTrueCountAsFastAsTheQuotaAllows()
    {
        var random = new Random(8_0302);
        const int cohorts = 200;
        var rows = new List<string>();
        var exact = new Dictionary<int, int>();
        foreach (var rewrites in new[] { 1, 3, 50, 500 })
        {
            int hits = 0, near = 0;
            long error = 0;
            for (var i = 0; i < cohorts; i++)
            {
                var truth = random.Next(10, 400);
                var answers = Enumerable.Range(0, rewrites).Select(j => Ask(truth, $"cohort-{i}-rewrite-{j}").Value!.Value).ToList();
                var guess = BestGuess(answers);
                if (guess == truth) hits++;
                if (Math.Abs(guess - truth) <= 2) near++;
                error += Math.Abs(guess - truth);
            }
            exact[rewrites] = hits;
            rows.Add($"| {rewrites} | {100.0 * hits / cohorts:N0} % | {100.0 * near / cohorts:N0} % | {(double)error / cohorts:N2} |");
        }
        output.WriteLine($"rewording attack, {cohorts} random true counts in [10, 400), maximum-likelihood attacker:");
        output.WriteLine("| distinct re-worded questions | exact count recovered | within ±2 | mean absolute error |");
        output.WriteLine("|---|---|---|---|");
        foreach (var row in rows) output.WriteLine(row);
        // The attacker model is sound: more independent answers, better guesses.
        Assert.True(exact[1] < exact[50] && exact[50] <= exact[500], string.Join(", ", exact));
        Assert.True(exact[500] > cohorts * 8 / 10, $"the ideal attacker recovers only {exact[500]}/{cohorts} with 500 answers: model broken");
    }

    /// <summary>Guess 1 (the target is in) when the answer with the target is higher; ties mean 'not in'. "Below threshold" ranks lowest.</summary>
    static int Guess(IEnumerable<(ReleasedCount With, ReleasedCount Without)> pairs)
    {
        long difference = 0;
        foreach (var (with, without) in pairs) difference += (with.Value ?? -1) - (without.Value ?? -1);
        return difference > 0 ? 1 : 0;
    }

    /// <summary>
    /// Q1 counts the cohort, Q2 the same cohort without the target (say, "except born on the 3rd of
    /// May 1961"). The target is in the cohort or not, at random; the attacker guesses from the two
    /// answers. ε 0.5 bounds any attacker's accuracy on one pair at e^ε/(1+e^ε) = 62.2 %.
    /// </summary>
    [Fact]
    public void ADifferencingPairTellsTheAttackerLittleMoreThanACoinToss()
    {
        var random = new Random(8_0303);
        double Accuracy(int trials, int pairs, DisclosureSetting setting, Func<int> baseCount)
        {
            var right = 0;
            for (var t = 0; t < trials; t++)
            {
                var others = baseCount();
                var member = random.Next(2);
                var answers = Enumerable.Range(0, pairs).Select(p => (Ask(others + member, $"t{t}-p{p}-with", setting), Ask(others, $"t{t}-p{p}-without", setting)));
                if (Guess(answers) == member) right++;
            }
            return (double)right / trials;
        }
        const int trials = 20_000;
        var sigma = Math.Sqrt(0.25 / trials);
        var bound = Math.Exp(0.5) / (1 + Math.Exp(0.5));

        var onePair = Accuracy(trials, 1, Default, () => random.Next(0, 300));
        var exact = Accuracy(2_000, 1, Exact, () => random.Next(0, 300));
        var atThreshold = Accuracy(2_000, 1, Default, () => DisclosureSetting.DefaultThreshold - 1);
        var quotaOfPairs = Accuracy(2_000, 25, Default, () => random.Next(10, 300));
        output.WriteLine($"differencing attack (target in or out at random, true counts uniform in [0, 300)):");
        output.WriteLine($"  one pair of questions, noise on: {onePair:P1} right over {trials:N0} trials (coin 50 %, ε-bound {bound:P1})");
        output.WriteLine($"  one pair, exact counts released: {exact:P1} over 2,000 trials");
        output.WriteLine($"  one pair when the others number 9 (threshold edge): {atThreshold:P1} over 2,000 trials");
        output.WriteLine($"  25 pairs (50 questions, one researcher's 7-day quota): {quotaOfPairs:P1} over 2,000 trials");

        Assert.InRange(onePair, 0.5 - 4 * sigma, bound + 4 * sigma);
        Assert.Equal(1.0, exact);
        // The known residual: the threshold applies to the true count, so at its edge "below threshold"
        // next to a number is certain proof (SECURITY.md). Thresholding the noisy count would close it.
        Assert.Equal(1.0, atThreshold);
        Assert.True(quotaOfPairs > onePair, "25 independent pairs must tell more than one");
    }
}
