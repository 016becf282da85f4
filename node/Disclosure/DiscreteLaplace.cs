namespace Midia.Node.Disclosure;

/// <summary>
/// Exact discrete Laplace sampling in integers (Canonne, Kamath, Steinke 2020, algorithms 1–2):
/// P(k) ∝ exp(-ε|k|) with ε = numerator/denominator, every coin a uniform integer comparison.
/// No floating point, so no low-bit leaks (Mironov 2012).
/// </summary>
public static class DiscreteLaplace
{
    /// <summary>One sample with P(k) ∝ exp(-|k|·s/t), s, t ≥ 1 (ε = s/t).</summary>
    public static long Sample(NoiseStream random, long s, long t)
    {
        if (s < 1 || t < 1) throw new ArgumentOutOfRangeException(nameof(s), "ε must be a positive rational s/t");
        while (true)
        {
            var u = (long)random.Below((ulong)t);
            if (!BernoulliExp(random, u, t)) continue;
            long v = 0;
            while (BernoulliExp(random, 1, 1)) v++;
            var x = u + t * v;          // geometric with parameter exp(-1/t)
            var y = x / s;              // geometric with parameter exp(-s/t)
            var negative = random.Below(2) == 1;
            if (negative && y == 0) continue; // else 0 would come up twice as often
            return negative ? -y : y;
        }
    }

    /// <summary>Bernoulli(exp(-n/d)) for n ≥ 0, d ≥ 1.</summary>
    public static bool BernoulliExp(NoiseStream random, long n, long d)
    {
        for (; n > d; n -= d)
            if (!BernoulliExp(random, 1, 1)) return false;
        // 0 ≤ γ = n/d ≤ 1: count k = 1, 2, ... while Bernoulli(γ/k) succeeds; odd k ⇔ exp(-γ).
        long k = 1;
        while (Bernoulli(random, n, d * k)) k++;
        return (k & 1) == 1;
    }

    /// <summary>Bernoulli(n/d) for 0 ≤ n ≤ d.</summary>
    public static bool Bernoulli(NoiseStream random, long n, long d) => (long)random.Below((ulong)d) < n;
}
