using System.Numerics;

namespace Midia.Cli.Dev.Synth;

/// <summary>Who a site's slot is: a person key (demographics derive from it), a dense person index (for the KVNR) and the sites they visit.</summary>
public readonly record struct PersonRef(ulong Key, long Index, ulong Sites);

/// <summary>
/// One regional population spread over the sites. Shared people (numbered 0..SharedPeople-1)
/// each visit a fixed set of 2–3 sites, chosen by hash from the seed, sized so that about a
/// quarter of every site's patients are shared; all other patients are local to one site.
/// Each site interleaves its shared and local people evenly over its slots, so any site can be
/// generated alone and still agree with the others on who is who.
/// </summary>
public sealed class Population
{
    public const double SharedFraction = 0.25;
    public const double TripleShare = 0.25; // of shared people, the part seen at three sites

    public ulong Seed { get; }
    public IReadOnlyList<string> Sites { get; }
    public int PatientsPerSite { get; }
    public long SharedPeople { get; }

    public Population(ulong seed, IReadOnlyList<string> sites, int patientsPerSite)
    {
        Seed = seed;
        Sites = sites;
        PatientsPerSite = patientsPerSite;
        var k = sites.Count;
        var averageVisits = k == 2 ? 2.0 : 2 + TripleShare;
        SharedPeople = k < 2 ? 0 : (long)Math.Round(SharedFraction * patientsPerSite * k / averageVisits);
        if (SharedPeople + (long)k * patientsPerSite >= Kvnr.Capacity)
            throw new ArgumentException($"{k} sites x {patientsPerSite} patients exceed the {Kvnr.Capacity} distinct KVNRs");
    }

    /// <summary>The sites (bit mask over the site list) a shared person visits.</summary>
    public ulong SitesOf(long shared)
    {
        var k = Sites.Count;
        var h = SeededRandom.Hash(Seed, (ulong)shared, 0x5173);
        var first = (int)(h % (ulong)k);
        var second = (first + 1 + (int)((h >> 20) % (ulong)(k - 1))) % k;
        var mask = (1UL << first) | (1UL << second);
        if (k >= 3 && (h >> 58) < 64 * TripleShare)
        {
            var third = (int)((h >> 36) % (ulong)(k - 2));
            for (var s = 0; s < k; s++)
            {
                if ((mask & (1UL << s)) != 0) continue;
                if (third-- == 0) { mask |= 1UL << s; break; }
            }
        }
        return mask;
    }

    /// <summary>The shared people who visit a site, in ascending order (about a quarter of its slots: small).</summary>
    public long[] SharedAt(int site)
    {
        var members = new List<long>();
        for (long j = 0; j < SharedPeople; j++)
            if ((SitesOf(j) & (1UL << site)) != 0) members.Add(j);
        return [.. members];
    }

    /// <summary>Slot i of a site: shared slots are spread evenly (Bresenham) among local ones.</summary>
    public PersonRef Slot(int site, int slot, long[] sharedAtSite)
    {
        long n = PatientsPerSite, c = Math.Min(sharedAtSite.Length, PatientsPerSite);
        var before = slot * c / n;
        if ((slot + 1) * c / n > before)
        {
            var j = sharedAtSite[before];
            return new PersonRef((ulong)j, j, SitesOf(j));
        }
        var local = slot - before;
        return new PersonRef((1UL << 63) | ((ulong)site << 40) | (ulong)local, SharedPeople + site * n + local, 1UL << site);
    }

    public static int SiteCount(ulong mask) => BitOperations.PopCount(mask);
}
