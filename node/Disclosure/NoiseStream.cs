using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Midia.Node.Disclosure;

/// <summary>
/// A deterministic cryptographic random stream: AES-256 in counter mode under a 32-byte key.
/// The same key always yields the same stream; without the key it is indistinguishable from random.
/// </summary>
public sealed class NoiseStream : IDisposable
{
    const int Blocks = 16;
    readonly Aes aes = Aes.Create();
    readonly byte[] counters = new byte[16 * Blocks];
    readonly byte[] buffer = new byte[16 * Blocks];
    ulong nextBlock;
    int position = 16 * Blocks;

    public NoiseStream(ReadOnlySpan<byte> key)
    {
        if (key.Length != 32) throw new ArgumentException("the noise key is 32 bytes", nameof(key));
        aes.Key = key.ToArray();
    }

    public ulong NextUInt64()
    {
        if (position == buffer.Length) Refill();
        var value = BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(position, 8));
        position += 8;
        return value;
    }

    /// <summary>Uniform in [0, n), without modulo bias (rejection).</summary>
    public ulong Below(ulong n)
    {
        if (n == 0) throw new ArgumentOutOfRangeException(nameof(n));
        var reject = (0 - n) % n; // 2^64 mod n: the low values that would favour small results
        while (true)
        {
            var r = NextUInt64();
            if (r >= reject) return r % n;
        }
    }

    void Refill()
    {
        for (int i = 0; i < Blocks; i++)
            BinaryPrimitives.WriteUInt64BigEndian(counters.AsSpan(16 * i + 8, 8), nextBlock++);
        aes.EncryptEcb(counters, buffer, PaddingMode.None);
        position = 0;
    }

    public void Dispose() => aes.Dispose();
}
