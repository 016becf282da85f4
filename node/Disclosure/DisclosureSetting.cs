using System.Globalization;
using Midia.Hosting;

namespace Midia.Node.Disclosure;

/// <summary>
/// How a query type's numbers leave the node (PRIVACY.md). Null fields fall back to the defaults:
/// ε 0.5, rounded to 10, threshold 10 (0 when exact), noise on.
/// </summary>
public sealed record DisclosureSetting(string QueryType, decimal? EpsilonSet, int? RoundSet, int? ThresholdSet, bool Exact)
{
    public const decimal DefaultEpsilon = 0.5m;
    public const int DefaultRound = 10;
    public const int DefaultThreshold = 10;

    public decimal Epsilon => EpsilonSet ?? DefaultEpsilon;
    public int Round => RoundSet ?? DefaultRound;
    public int Threshold => ThresholdSet ?? (Exact ? 0 : DefaultThreshold);

    /// <summary>ε as an exact fraction s/t in lowest terms, as the sampler needs it.</summary>
    public (long S, long T) EpsilonFraction
    {
        get
        {
            long t = 1;
            var e = Epsilon;
            while (e != decimal.Truncate(e))
            {
                e *= 10;
                t *= 10;
            }
            var s = (long)e;
            var g = Gcd(s, t);
            return (s / g, t / g);
        }
    }

    static long Gcd(long a, long b) => b == 0 ? a : Gcd(b, a % b);

    public static string Format(decimal epsilon) => epsilon.ToString("0.######", CultureInfo.InvariantCulture);

    /// <summary>--epsilon: positive, at most 10, at most 6 decimals (kept exact as a fraction).</summary>
    public static decimal ParseEpsilon(string text)
    {
        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var e) || e <= 0 || e > 10 || decimal.Round(e, 6) != e)
            throw new CommandException($"--epsilon: expected a decimal in (0, 10] with at most 6 decimals, got '{text}'");
        return e;
    }
}
