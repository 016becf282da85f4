using System.Text;

namespace Midia.Rpc.Protocol;

/// <summary>
/// grpc-message encoding: UTF-8, then every byte outside printable ASCII (and '%') as %XX.
/// Decoding never fails: a malformed escape is kept as it is.
/// </summary>
public static class PercentEncoding
{
    public static string Encode(string value)
    {
        var needs = false;
        foreach (var c in value)
            if (c is < ' ' or > '~' or '%') { needs = true; break; }
        if (!needs) return value;
        var bytes = Encoding.UTF8.GetBytes(value);
        var builder = new StringBuilder(bytes.Length * 2);
        foreach (var b in bytes)
        {
            if (b is < 0x20 or > 0x7E or (byte)'%') builder.Append('%').Append(b.ToString("X2"));
            else builder.Append((char)b);
        }
        return builder.ToString();
    }

    public static string Decode(string value)
    {
        if (!value.Contains('%')) return value;
        var bytes = new List<byte>(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '%' && i + 2 < value.Length && IsHex(value[i + 1]) && IsHex(value[i + 2]))
            {
                bytes.Add((byte)(HexValue(value[i + 1]) * 16 + HexValue(value[i + 2])));
                i += 2;
            }
            else if (c <= 0x7F) bytes.Add((byte)c);
            else
            {
                // Outside the spec (headers are ASCII), but a surrogate pair is one character, not two U+FFFD.
                var pair = char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]);
                bytes.AddRange(Encoding.UTF8.GetBytes(value.Substring(i, pair ? 2 : 1)));
                if (pair) i++;
            }
        }
        // Invalid UTF-8 becomes U+FFFD rather than an exception.
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    static bool IsHex(char c) => c is >= '0' and <= '9' or >= 'a' and <= 'f' or >= 'A' and <= 'F';
    static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
