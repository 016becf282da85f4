using Midia.Node.Store;

namespace Midia.Node.Tests.Research;

/// <summary>
/// The usage ledger's blob: every layout round-trips random sets exactly, and the one-pid
/// membership test agrees with a plain HashSet for every pid in and around the universe.
/// </summary>
public sealed class CompressedPatientSetTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(1000)]
    public void RandomSetsOfEveryDensityRoundTripAndAnswerMembershipLikeAHashSet(int universe)
    {
        var random = new Random(universe * 7919 + 1);
        foreach (var density in new[] { 0.0, 0.01, 0.3, 0.5, 0.9, 0.99, 1.0 })
            for (var round = 0; round < 20; round++)
            {
                var members = Enumerable.Range(0, universe).Where(_ => random.NextDouble() < density).Select(p => (long)p).ToHashSet();
                var blob = CompressedPatientSet.Encode(Set(universe, members));
                Check(members, blob, universe + 70);
            }
    }

    [Theory]
    [InlineData(0.01)]
    [InlineData(0.3)]
    [InlineData(0.9)]
    public void AMillionPatientCohortRoundTripsExactlyAtEveryDensity(double density)
    {
        const int universe = 1_000_000;
        var random = new Random((int)(density * 1000));
        var members = new HashSet<long>();
        for (long pid = 1; pid <= universe; pid++) if (random.NextDouble() < density) members.Add(pid);
        var blob = CompressedPatientSet.Encode(Set(universe, members));

        Assert.Equal(members.Order(), CompressedPatientSet.Decode(blob).Members());
        // Membership of one pid is what the report asks: a sample across the range, both answers, plus the edges.
        foreach (var pid in Enumerable.Range(0, 400).Select(_ => (long)random.Next(0, universe + 100)).Concat([0L, 1, universe, universe + 1]))
            Assert.Equal(members.Contains(pid), CompressedPatientSet.Contains(blob, pid));
        // Never worse than the plain bitmap (random 30 % is near its entropy, 0.88 bit per patient).
        Assert.True(blob.Length <= universe / 8 + 16, $"{blob.Length} bytes is more than the plain bitmap");
    }

    [Fact]
    public void EachLayoutIsUsedWhereItIsSmallestAndEachRoundTrips()
    {
        var random = new Random(5);
        var layouts = new HashSet<CompressedPatientSet.Layout>();
        var cases = new List<HashSet<long>>();
        foreach (var density in new[] { 0.001, 0.4, 0.999 })
            cases.Add(Enumerable.Range(1, 20_000).Where(_ => random.NextDouble() < density).Select(p => (long)p).ToHashSet());
        // Clustered: a few long runs, as whole import batches counted together.
        cases.Add([.. Enumerable.Range(1_000, 6_000).Concat(Enumerable.Range(9_000, 5_000)).Concat(Enumerable.Range(17_000, 2_000)).Select(p => (long)p)]);
        foreach (var members in cases)
        {
            var blob = CompressedPatientSet.Encode(Set(20_000, members));
            layouts.Add(CompressedPatientSet.LayoutOf(blob));
            Check(members, blob, 20_100);
        }
        Assert.Equal(Enum.GetValues<CompressedPatientSet.Layout>().Order(), layouts.Order());
    }

    [Fact]
    public void RunsStartingAtPidZeroAndSinglePidRunsRoundTrip()
    {
        var random = new Random(12);
        for (var round = 0; round < 200; round++)
        {
            // Runs of random length (1..40) alternating from pid 0 either present or absent.
            var members = new HashSet<long>();
            long pid = 0;
            var present = random.Next(2) == 0;
            while (pid < 3_000)
            {
                var length = random.Next(1, 40);
                if (present) for (var p = pid; p < pid + length; p++) members.Add(p);
                pid += length;
                present = !present;
            }
            Check(members, CompressedPatientSet.Encode(Set(3_100, members)), 3_200);
        }
    }

    [Fact]
    public void SetsWithClustersAndTheHighestPidsRoundTrip()
    {
        // Runs, single stragglers, a word boundary at both ends: what imports in batches produce.
        var members = new HashSet<long>();
        for (long pid = 64; pid < 128; pid++) members.Add(pid);
        for (long pid = 5_000; pid < 9_000; pid++) members.Add(pid);
        members.UnionWith([1, 63, 4_999, 70_000, 131_071]);
        Check(members, CompressedPatientSet.Encode(Set(131_071, members)), 131_200);
    }

    [Fact]
    public void TheBlobIsByteForByteTheStoredFormatOfItsLayoutAndNoLargerThanAnyOther()
    {
        // The encoder writes into an array sized in advance: a slip would leave stray bytes or cut the
        // last gap short. Compare against a plain reference writer of each layout (BinaryWriter, list ops).
        var random = new Random(31);
        var cases = new List<(long Universe, HashSet<long> Members)> { (0, []), (0, [0]), (63, [63]), (64, [0, 64]), (200_000, [199_999]) };
        foreach (var universe in new[] { 130, 5_000, 200_000 })
            foreach (var density in new[] { 0.002, 0.01, 0.3, 0.9, 0.995 })
                cases.Add((universe, Enumerable.Range(0, universe + 1).Where(_ => random.NextDouble() < density).Select(p => (long)p).ToHashSet()));
        cases.Add((20_000, [.. Enumerable.Range(1_000, 6_000).Concat(Enumerable.Range(9_000, 5_000)).Select(p => (long)p)]));
        // Gaps of 2 and 3 varint bytes.
        cases.Add((3_000_000, [5, 200, 20_000, 2_500_000]));
        foreach (var (universe, members) in cases)
        {
            var blob = CompressedPatientSet.Encode(Set(universe, members));
            var references = Reference(members.Order().ToList());
            var layout = CompressedPatientSet.LayoutOf(blob);
            Assert.True(references[layout].SequenceEqual(blob), $"{members.Count} members up to {universe}: {layout} blob differs from the reference ({blob.Length} vs {references[layout].Length} bytes)");
            // The chosen layout is the smallest up to its header varints.
            Assert.All(references.Values, other => Assert.True(blob.Length <= other.Length + 10, $"{layout} {blob.Length} B, another layout {other.Length} B"));
        }
    }

    /// <summary>Every layout's bytes for sorted members, written the obvious way.</summary>
    static Dictionary<CompressedPatientSet.Layout, byte[]> Reference(List<long> sorted)
    {
        if (sorted.Count == 0) return new() { [CompressedPatientSet.Layout.MemberGaps] = [0, 0] };
        var last = sorted[^1];
        var set = sorted.ToHashSet();
        static List<byte> Varint(List<byte> bytes, ulong value)
        {
            for (; value >= 0x80; value >>= 7) bytes.Add((byte)(value | 0x80));
            bytes.Add((byte)value);
            return bytes;
        }
        static List<byte> Gaps(List<byte> bytes, IEnumerable<long> pids)
        {
            long previous = -1;
            foreach (var pid in pids) { Varint(bytes, (ulong)(pid - previous)); previous = pid; }
            return bytes;
        }

        var memberGaps = Gaps(Varint([0], (ulong)sorted.Count), sorted);
        var absentPids = Enumerable.Range(0, checked((int)last + 1)).Select(p => (long)p).Where(p => !set.Contains(p)).ToList();
        var absentGaps = Gaps(Varint(Varint([1], (ulong)absentPids.Count), (ulong)last), absentPids);
        var words = new ulong[(last >> 6) + 1];
        foreach (var pid in sorted) words[pid >> 6] |= 1UL << (int)(pid & 63);
        var bitmap = Varint([2], (ulong)words.Length);
        using (var stream = new MemoryStream())
        using (var writer = new BinaryWriter(stream))
        {
            foreach (var word in words) writer.Write(word); // BinaryWriter is little-endian
            writer.Flush();
            bitmap.AddRange(stream.ToArray());
        }
        var lengths = new List<long>();
        long at = 0;
        var present = false;
        while (at <= last)
        {
            var end = at;
            while (end <= last && set.Contains(end) == present) end++;
            lengths.Add(end - at);
            at = end;
            present = !present;
        }
        var runs = Varint([3], (ulong)lengths.Count);
        foreach (var length in lengths) Varint(runs, (ulong)length);
        return new()
        {
            [CompressedPatientSet.Layout.MemberGaps] = [.. memberGaps],
            [CompressedPatientSet.Layout.AbsentGaps] = [.. absentGaps],
            [CompressedPatientSet.Layout.Bitmap] = [.. bitmap],
            [CompressedPatientSet.Layout.Runs] = [.. runs],
        };
    }

    static PatientSet Set(long maxPid, IEnumerable<long> members)
    {
        var set = new PatientSet(maxPid);
        foreach (var pid in members) set.Add(pid);
        return set;
    }

    static void Check(HashSet<long> members, byte[] blob, long probeTo)
    {
        Assert.Equal(members.Order(), CompressedPatientSet.Decode(blob).Members());
        for (long pid = -1; pid <= probeTo; pid++)
            Assert.True(members.Contains(pid) == CompressedPatientSet.Contains(blob, pid), $"pid {pid}: expected {(members.Contains(pid) ? "member" : "not member")} ({CompressedPatientSet.LayoutOf(blob)})");
    }
}
