using System.Buffers;
using System.Numerics;

namespace Midia.Node.Store;

/// <summary>
/// A PatientSet as one small blob, for the usage ledger: one row per research query however many
/// patients it counted. Four layouts, the smallest chosen per set: the members as LEB128 varint
/// gaps (sparse sets), the non-members up to the last member as gaps (dense sets), alternating
/// run lengths (clustered sets: whole import batches), or the raw bitmap up to the last member
/// (random sets in the middle, where every gap layout costs more than a bit per patient). Measured
/// at 1 M patients (BENCHMARKS.md "Usage ledger"): Deflate on top saved at most 7 % (nothing on
/// random 1 % and 30 % cohorts) for 5-10 ms per query, so it is not used.
/// Header: byte 0 = layout; then varints (and the bitmap's words, little-endian).
/// </summary>
public static class CompressedPatientSet
{
    public enum Layout : byte { MemberGaps = 0, AbsentGaps = 1, Bitmap = 2, Runs = 3 }

    public static byte[] Encode(PatientSet set)
    {
        var words = set.Words;
        var lastWord = words.Length - 1;
        while (lastWord >= 0 && words[lastWord] == 0) lastWord--;
        if (lastWord < 0) return [(byte)Layout.MemberGaps, 0];

        long members = 0, runs = 0;
        var carry = 0UL;
        for (var i = 0; i <= lastWord; i++)
        {
            members += BitOperations.PopCount(words[i]);
            // A run starts wherever a bit differs from the one below it (pid 0 is compared with "absent").
            runs += BitOperations.PopCount(words[i] ^ ((words[i] << 1) | carry));
            carry = words[i] >> 63;
        }
        var last = ((long)lastWord << 6) + 63 - BitOperations.LeadingZeroCount(words[lastWord]);
        var absent = last + 1 - members;
        var bitmapBytes = (lastWord + 1) * 8L;

        // Every gap or run costs at least one byte: a list longer than the bitmap never wins, so only
        // shorter lists are tried. A gap list is written once, into a pooled buffer, and given up as
        // soon as it is no smaller than the best so far (sizing it first and writing it again cost
        // a second pass, on a fast count most of what the ledger added: BENCHMARKS.md "Usage ledger").
        var layout = Layout.Bitmap;
        var best = bitmapBytes;
        byte[]? gaps = null;
        try
        {
            if (members < best && TryGaps(words, lastWord, last, present: true, best) is { } m) (layout, best, gaps) = (Layout.MemberGaps, m.Length, m.Buffer);
            if (absent < best && TryGaps(words, lastWord, last, present: false, best) is { } a)
            {
                Release(gaps);
                (layout, best, gaps) = (Layout.AbsentGaps, a.Length, a.Buffer);
            }
            if (runs + 1 < best && RunBytes(set, last) is var r && r < best) (layout, best) = (Layout.Runs, r);

            // The blob is written once into an array of its final length (uninitialised: every byte is written, checked below).
            var blob = GC.AllocateUninitializedArray<byte>(checked((int)(1 + layout switch
            {
                Layout.Bitmap => VarintLength((ulong)(lastWord + 1)) + best,
                Layout.MemberGaps => VarintLength((ulong)members) + best,
                Layout.AbsentGaps => VarintLength((ulong)absent) + VarintLength((ulong)last) + best,
                _ => best,
            })));
            blob[0] = (byte)layout;
            var span = blob.AsSpan(1);
            switch (layout)
            {
                case Layout.Bitmap:
                    if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the ledger's bitmap layout is little-endian");
                    span = span[PutVarint(span, (ulong)(lastWord + 1))..];
                    System.Runtime.InteropServices.MemoryMarshal.AsBytes(words[..(lastWord + 1)]).CopyTo(span);
                    span = span[(int)bitmapBytes..];
                    break;
                case Layout.MemberGaps:
                    span = span[PutVarint(span, (ulong)members)..];
                    gaps.AsSpan(0, (int)best).CopyTo(span);
                    span = span[(int)best..];
                    break;
                case Layout.AbsentGaps:
                    // The last member closes the range: everything up to it that is not listed is a member.
                    span = span[PutVarint(span, (ulong)absent)..];
                    span = span[PutVarint(span, (ulong)last)..];
                    gaps.AsSpan(0, (int)best).CopyTo(span);
                    span = span[(int)best..];
                    break;
                case Layout.Runs:
                    span = span[WriteRuns(span, set, last)..];
                    break;
            }
            if (!span.IsEmpty) throw new InvalidOperationException($"patient-set blob sized wrongly: {span.Length} bytes left");
            return blob;
        }
        finally { Release(gaps); }
    }

    public static Layout LayoutOf(byte[] blob) => (Layout)blob[0];

    /// <summary>The set the blob holds, sized to hold its highest member.</summary>
    public static PatientSet Decode(byte[] blob)
    {
        var reader = Open(blob);
        switch (LayoutOf(blob))
        {
            case Layout.Bitmap:
            {
                var count = checked((int)reader.Varint());
                var words = new ulong[Math.Max(1, count)];
                for (var i = 0; i < count; i++) words[i] = reader.UInt64();
                return PatientSet.FromWords(words);
            }
            case Layout.MemberGaps:
            {
                var count = checked((long)reader.Varint());
                var pids = new long[count];
                long pid = -1;
                for (long i = 0; i < count; i++) pids[i] = pid += (long)reader.Varint();
                var set = new PatientSet(Math.Max(0, pid));
                foreach (var p in pids) set.Add(p);
                return set;
            }
            case Layout.AbsentGaps:
            {
                var count = checked((long)reader.Varint());
                var last = (long)reader.Varint();
                var words = new ulong[(last >> 6) + 1];
                Array.Fill(words, ulong.MaxValue);
                // Clear above the last member, then every listed non-member.
                var top = (int)(last & 63);
                words[^1] = top == 63 ? ulong.MaxValue : (1UL << (top + 1)) - 1;
                long pid = -1;
                for (long i = 0; i < count; i++)
                {
                    pid += (long)reader.Varint();
                    words[pid >> 6] &= ~(1UL << (int)(pid & 63));
                }
                return PatientSet.FromWords(words);
            }
            case Layout.Runs:
            {
                var count = checked((long)reader.Varint());
                var lengths = new long[count];
                long end = 0;
                for (long i = 0; i < count; i++) end += lengths[i] = (long)reader.Varint();
                var set = new PatientSet(Math.Max(0, end - 1));
                long pid = 0;
                for (long i = 0; i < count; i++)
                {
                    if (i % 2 == 1) for (var p = pid; p < pid + lengths[i]; p++) set.Add(p);
                    pid += lengths[i];
                }
                return set;
            }
            default:
                throw new InvalidDataException($"unknown patient-set layout {blob[0]}");
        }
    }

    /// <summary>Whether pid is in the blob's set, reading no further than it must.</summary>
    public static bool Contains(byte[] blob, long pid)
    {
        if (pid < 0) return false;
        var reader = Open(blob);
        switch (LayoutOf(blob))
        {
            case Layout.Bitmap:
            {
                var count = (long)reader.Varint();
                if ((pid >> 6) >= count) return false;
                reader.Skip((pid >> 6) * 8);
                return (reader.UInt64() & (1UL << (int)(pid & 63))) != 0;
            }
            case Layout.MemberGaps:
            {
                var count = reader.Varint();
                long current = -1;
                for (ulong i = 0; i < count; i++)
                {
                    current += (long)reader.Varint();
                    if (current >= pid) return current == pid;
                }
                return false;
            }
            case Layout.AbsentGaps:
            {
                var count = reader.Varint();
                var last = (long)reader.Varint();
                if (pid > last) return false;
                long current = -1;
                for (ulong i = 0; i < count; i++)
                {
                    current += (long)reader.Varint();
                    if (current >= pid) return current != pid;
                }
                return true;
            }
            case Layout.Runs:
            {
                var count = reader.Varint();
                long end = 0;
                for (ulong i = 0; i < count; i++)
                {
                    end += (long)reader.Varint();
                    if (pid < end) return i % 2 == 1;
                }
                return false;
            }
            default:
                throw new InvalidDataException($"unknown patient-set layout {blob[0]}");
        }
    }

    /// <summary>
    /// The gap list of members (present) or of non-members up to the last member, in a pooled buffer;
    /// null once it reaches limit bytes (another layout is at least as small).
    /// </summary>
    static (byte[] Buffer, long Length)? TryGaps(ReadOnlySpan<ulong> words, int lastWord, long last, bool present, long limit)
    {
        // Room for one more varint past the limit, so the check runs once per gap, after writing it.
        var buffer = ArrayPool<byte>.Shared.Rent(checked((int)limit + 10));
        var output = buffer.AsSpan();
        var at = 0;
        long previous = -1;
        // Non-members count only up to the last member.
        var top = (int)(last & 63);
        var lastMask = top == 63 ? ulong.MaxValue : (1UL << (top + 1)) - 1;
        for (var i = 0; i <= lastWord; i++)
        {
            var w = present ? words[i] : ~words[i];
            if (i == lastWord) w &= lastMask;
            var first = (long)i << 6;
            // A word's first pid, without branches on data: in a sparse random cohort whether a word
            // holds a pid, and whether its gap takes one varint byte or two, are coin flips the CPU
            // mispredicts (measured: this loop at 11 ns per member with branches, most of the encode).
            var has = (w | (0UL - w)) >> 63;
            var pid = first + BitOperations.TrailingZeroCount(w);
            var gap = (ulong)(pid - previous) & (0UL - has);
            if (gap < 1UL << 14)
            {
                var two = (0x7FUL - gap) >> 63;
                output[at] = (byte)(gap | (two << 7));
                output[at + 1] = (byte)(gap >> 7);
                at += (int)(has + two);
            }
            else at += PutVarint(output[at..], gap);
            previous += (long)has * (pid - previous);
            w &= w - 1;
            // The rest of the word (rarer in a sparse set, all of it in a dense one).
            while (w != 0)
            {
                if (at >= limit) break;
                pid = first + BitOperations.TrailingZeroCount(w);
                gap = (ulong)(pid - previous);
                if (gap < 0x80) output[at++] = (byte)gap;
                else at += PutVarint(output[at..], gap);
                previous = pid;
                w &= w - 1;
            }
            if (at >= limit)
            {
                Release(buffer);
                return null;
            }
        }
        return (buffer, at);
    }

    // Cleared on return: the pool's next user must not find this site's pid gaps.
    static void Release(byte[]? buffer)
    {
        if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
    }

    /// <summary>The runs up to the last member: absent from pid 0 (possibly empty), present, absent, ..., present.</summary>
    static IEnumerable<long> RunLengths(PatientSet set, long last)
    {
        long pid = 0;
        var present = false;
        while (pid <= last)
        {
            var next = present ? NextAbsent(set, pid, last + 1) : NextMember(set, pid);
            yield return next - pid;
            pid = next;
            present = !present;
        }
    }

    static long NextMember(PatientSet set, long from)
    {
        var words = set.Words;
        var i = (int)(from >> 6);
        var w = words[i] & (ulong.MaxValue << (int)(from & 63));
        while (w == 0) w = words[++i];
        return ((long)i << 6) + BitOperations.TrailingZeroCount(w);
    }

    static long NextAbsent(PatientSet set, long from, long limit)
    {
        var words = set.Words;
        var i = (int)(from >> 6);
        var w = ~words[i] & (ulong.MaxValue << (int)(from & 63));
        while (w == 0 && ++i < words.Length) w = ~words[i];
        return i >= words.Length ? limit : Math.Min(limit, ((long)i << 6) + BitOperations.TrailingZeroCount(w));
    }

    static long RunBytes(PatientSet set, long last)
    {
        long bytes = 0, count = 0;
        foreach (var length in RunLengths(set, last))
        {
            bytes += VarintLength((ulong)length);
            count++;
        }
        return bytes + VarintLength((ulong)count);
    }

    static int WriteRuns(Span<byte> output, PatientSet set, long last)
    {
        var lengths = RunLengths(set, last).ToList();
        var at = PutVarint(output, (ulong)lengths.Count);
        foreach (var length in lengths) at += PutVarint(output[at..], (ulong)length);
        return at;
    }

    static int VarintLength(ulong value) => value < 1UL << 7 ? 1 : value < 1UL << 14 ? 2 : value < 1UL << 21 ? 3 : (64 - BitOperations.LeadingZeroCount(value) + 6) / 7;

    static int PutVarint(Span<byte> buffer, ulong value)
    {
        var n = 0;
        while (value >= 0x80)
        {
            buffer[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        buffer[n++] = (byte)value;
        return n;
    }

    static BlobReader Open(byte[] blob) =>
        blob.Length >= 1 ? new BlobReader(blob, 1) : throw new InvalidDataException("empty patient-set blob");

    sealed class BlobReader(byte[] bytes, int position)
    {
        int at = position;

        public ulong Varint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (at >= bytes.Length) throw new InvalidDataException("truncated patient-set blob");
                var b = bytes[at++];
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80) return value;
            }
            throw new InvalidDataException("overlong varint in patient-set blob");
        }

        public ulong UInt64()
        {
            if (at + 8 > bytes.Length) throw new InvalidDataException("truncated patient-set blob");
            var value = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at, 8));
            at += 8;
            return value;
        }

        public void Skip(long count) => at = checked((int)(at + count));
    }
}
