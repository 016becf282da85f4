namespace Midia.Cli.Dev.Synth;

/// <summary>
/// SplitMix64: a tiny, fast generator whose stream depends only on (seed, key, stream). Every
/// person and every (person, site) pair gets its own, so sites generate independently and in
/// parallel, and a shared person looks the same wherever they appear. The draws use integer
/// arithmetic and one multiplication only, so a stream is the same on every machine.
/// </summary>
public struct SeededRandom(ulong seed, ulong key, ulong stream)
{
    ulong state = Mix(seed ^ Mix(key ^ Mix(stream + 0x632BE59BD9B4E019UL)));

    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A stateless hash of three numbers: for decisions that must not consume a generator.</summary>
    public static ulong Hash(ulong a, ulong b, ulong c) => Mix(a ^ Mix(b ^ Mix(c + 0x9E3779B97F4A7C15UL)));

    public ulong Next()
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double Unit() => (Next() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, n).</summary>
    public int Below(int n) => (int)(((Next() >> 32) * (ulong)n) >> 32);

    /// <summary>Uniform in [low, high] (inclusive).</summary>
    public int Between(int low, int high) => low + Below(high - low + 1);

    public bool Chance(double p) => Unit() < p;

    /// <summary>Approximately normal (Irwin–Hall of four uniforms): cheap and platform-independent.</summary>
    public double Normal(double mean, double sd) => mean + sd * (Unit() + Unit() + Unit() + Unit() - 2.0) * 1.7320508075688772;

    public T Pick<T>(T[] items) => items[Below(items.Length)];
}
