using System.IO.Compression;
using System.Numerics;

namespace Midia.Node.Store;

/// <summary>
/// A PatientSet as one small blob, for the usage ledger: one row per research query however many
/// patients it counted. Three layouts, the smallest chosen per set, then Deflate when it helps:
/// the members as LEB128 varint gaps (sparse sets), the non-members up to the last member as gaps
/// (dense sets), or the raw bitmap up to the last member (the middle, where gaps cost more than a
/// bit each). Measured at 1 M patients (BENCHMARKS.md "Usage ledger"): a 1 % cohort is ~10 KB, 30 %
/// ~110 KB, 90 % ~60 KB — against 125 KB for the plain bitmap and 1 M rows for a row per patient.
/// Header: byte 0 = layout | 0x80 when deflated; then varint count of entries (gaps) or words.
/// </summary>
public static class CompressedPatientSet
{
    public enum Layout : byte { MemberGaps = 0, AbsentGaps = 1, Bitmap = 2 }

    const byte Deflated = 0x80;

    public static byte[] Encode(PatientSet set) => Encode(set, allowDeflate: true);

    /// <summary>The blob without Deflate: for measuring what Deflate adds.</summary>
    public static byte[] Encode(PatientSet set, bool allowDeflate)
    {
        var words = set.Words;
        var lastWord = words.Length - 1;
        while (lastWord >= 0 && words[lastWord] == 0) lastWord--;
        if (lastWord < 0) return [(byte)Layout.MemberGaps, 0];

        long members = 0;
        for (var i = 0; i <= lastWord; i++) members += BitOperations.PopCount(words[i]);
        var last = ((long)lastWord << 6) + 63 - BitOperations.LeadingZeroCount(words[lastWord]);
        var absent = last + 1 - members;
        var bitmapBytes = (lastWord + 1) * 8L;

        // Every gap costs at least one byte: a list longer than the bitmap never wins, so only the shorter list is sized exactly.
        var layout = Layout.Bitmap;
        var best = bitmapBytes;
        if (members < best && GapBytes(words, lastWord, last, present: true) is var m && m < best) (layout, best) = (Layout.MemberGaps, m);
        if (absent < best && GapBytes(words, lastWord, last, present: false) is var a && a < best) (layout, best) = (Layout.AbsentGaps, a);

        using var raw = new MemoryStream((int)Math.Min(best + 16, int.MaxValue));
        raw.WriteByte((byte)layout);
        switch (layout)
        {
            case Layout.Bitmap:
                WriteVarint(raw, (ulong)(lastWord + 1));
                Span<byte> word = stackalloc byte[8];
                for (var i = 0; i <= lastWord; i++)
                {
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(word, words[i]);
                    raw.Write(word);
                }
                break;
            case Layout.MemberGaps:
                WriteVarint(raw, (ulong)members);
                WriteGaps(raw, words, lastWord, last, present: true);
                break;
            case Layout.AbsentGaps:
                // The last member closes the range: everything up to it that is not listed is a member.
                WriteVarint(raw, (ulong)absent);
                WriteVarint(raw, (ulong)last);
                WriteGaps(raw, words, lastWord, last, present: false);
                break;
        }
        var plain = raw.ToArray();
        if (!allowDeflate || plain.Length < 64) return plain;

        using var packed = new MemoryStream(plain.Length / 2 + 16);
        packed.WriteByte((byte)((byte)layout | Deflated));
        using (var deflate = new DeflateStream(packed, CompressionLevel.Fastest, leaveOpen: true))
            deflate.Write(plain, 1, plain.Length - 1);
        return packed.Length < plain.Length ? packed.ToArray() : plain;
    }

    public static Layout LayoutOf(byte[] blob) => (Layout)(blob[0] & ~Deflated);

    public static bool IsDeflated(byte[] blob) => (blob[0] & Deflated) != 0;

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
            default:
                throw new InvalidDataException($"unknown patient-set layout {blob[0]}");
        }
    }

    /// <summary>Bytes of the gap list of members (present) or of non-members up to the last member.</summary>
    static long GapBytes(ReadOnlySpan<ulong> words, int lastWord, long last, bool present)
    {
        long bytes = 0, previous = -1;
        for (var i = 0; i <= lastWord; i++)
        {
            var w = present ? words[i] : ~words[i];
            while (w != 0)
            {
                var pid = ((long)i << 6) + BitOperations.TrailingZeroCount(w);
                if (pid > last) break;
                bytes += VarintLength((ulong)(pid - previous));
                previous = pid;
                w &= w - 1;
            }
        }
        return bytes;
    }

    static void WriteGaps(MemoryStream stream, ReadOnlySpan<ulong> words, int lastWord, long last, bool present)
    {
        Span<byte> buffer = stackalloc byte[10];
        long previous = -1;
        for (var i = 0; i <= lastWord; i++)
        {
            var w = present ? words[i] : ~words[i];
            while (w != 0)
            {
                var pid = ((long)i << 6) + BitOperations.TrailingZeroCount(w);
                if (pid > last) break;
                var n = PutVarint(buffer, (ulong)(pid - previous));
                stream.Write(buffer[..n]);
                previous = pid;
                w &= w - 1;
            }
        }
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

    static void WriteVarint(MemoryStream stream, ulong value)
    {
        Span<byte> buffer = stackalloc byte[10];
        stream.Write(buffer[..PutVarint(buffer, value)]);
    }

    static BlobReader Open(byte[] blob)
    {
        if (blob.Length < 1) throw new InvalidDataException("empty patient-set blob");
        if (!IsDeflated(blob)) return new BlobReader(blob, 1);
        using var inflated = new MemoryStream(blob.Length * 4);
        using (var deflate = new DeflateStream(new MemoryStream(blob, 1, blob.Length - 1), CompressionMode.Decompress))
            deflate.CopyTo(inflated);
        return new BlobReader(inflated.ToArray(), 0);
    }

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
