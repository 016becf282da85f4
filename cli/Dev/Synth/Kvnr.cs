namespace Midia.Cli.Dev.Synth;

/// <summary>
/// The unchangeable part of the German statutory health insurance number (KVNR, kvid-10):
/// a capital letter, eight digits and a check digit. Check digit (GKV): the letter becomes its
/// two-digit alphabet position (A = 01), followed by the eight digits; weights 1,2,1,2,...;
/// two-digit products are replaced by their digit sum; the check digit is the sum mod 10.
/// </summary>
public static class Kvnr
{
    const long Space = 26L * 100_000_000; // letters x eight digits
    const long Stride = 1_548_962_137;    // coprime to Space: (index * Stride + offset) mod Space is a bijection

    public static int CheckDigit(char letter, ReadOnlySpan<char> eightDigits)
    {
        Span<int> digits = stackalloc int[10];
        var position = letter - 'A' + 1;
        digits[0] = position / 10;
        digits[1] = position % 10;
        for (var i = 0; i < 8; i++) digits[2 + i] = eightDigits[i] - '0';
        var sum = 0;
        for (var i = 0; i < 10; i++)
        {
            var product = digits[i] * (i % 2 == 0 ? 1 : 2);
            sum += product / 10 + product % 10;
        }
        return sum % 10;
    }

    public static bool IsValid(string kvnr) =>
        kvnr.Length == 10 && kvnr[0] is >= 'A' and <= 'Z' && kvnr.AsSpan(1).IndexOfAnyExceptInRange('0', '9') < 0
        && CheckDigit(kvnr[0], kvnr.AsSpan(1, 8)) == kvnr[9] - '0';

    /// <summary>Largest number of distinct people this scheme can number.</summary>
    public const long Capacity = Space;

    /// <summary>A distinct valid KVNR for each distinct person index below <see cref="Capacity"/>.</summary>
    public static string ForPerson(long personIndex, ulong seed)
    {
        var body = (long)(((UInt128)(ulong)personIndex * Stride + seed % Space) % Space);
        var letter = (char)('A' + body / 100_000_000);
        Span<char> text = stackalloc char[10];
        text[0] = letter;
        (body % 100_000_000).TryFormat(text[1..9], out _, "D8");
        text[9] = (char)('0' + CheckDigit(letter, text[1..9]));
        return new string(text);
    }
}
