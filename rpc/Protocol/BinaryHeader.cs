namespace Midia.Rpc.Protocol;

/// <summary>Values of "-bin" headers: base64, sent unpadded-tolerant (other stacks omit the padding).</summary>
public static class BinaryHeader
{
    public static string Encode(byte[] value) => Convert.ToBase64String(value);

    public static bool TryDecode(string value, out byte[] bytes)
    {
        bytes = [];
        var text = value.Trim();
        var remainder = text.Length % 4;
        if (remainder == 1) return false;
        if (remainder != 0) text += new string('=', 4 - remainder);
        var buffer = new byte[text.Length / 4 * 3];
        if (!Convert.TryFromBase64String(text, buffer, out var written)) return false;
        bytes = buffer[..written];
        return true;
    }
}
