using System.IO.Compression;
using Midia.Rpc.Core;

namespace Midia.Rpc.Protocol;

/// <summary>Per-message compression: identity and gzip. Decompression stops at the receive limit (no gzip bombs).</summary>
public static class MessageCompression
{
    public const string Identity = "identity";
    public const string Gzip = "gzip";
    public const string AcceptEncoding = "identity,gzip";

    public static bool IsSupported(string encoding) => encoding is Identity or Gzip;

    public static byte[] Compress(ReadOnlySpan<byte> payload)
    {
        using var output = new MemoryStream(payload.Length / 2 + 64);
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(payload);
        return output.ToArray();
    }

    /// <summary>Inflates a message; more than <paramref name="limit"/> bytes is RESOURCE_EXHAUSTED, corrupt input INTERNAL.</summary>
    public static byte[] Decompress(byte[] compressed, int limit)
    {
        try
        {
            using var gzip = new GZipStream(new MemoryStream(compressed, writable: false), CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = gzip.Read(buffer)) > 0)
            {
                if (output.Length + read > limit)
                    throw new RpcException(StatusCode.ResourceExhausted, $"Received message exceeds the maximum configured message size ({limit} bytes) after decompression.");
                output.Write(buffer, 0, read);
            }
            return output.ToArray();
        }
        catch (InvalidDataException)
        {
            throw new RpcException(StatusCode.Internal, "Failed to decompress message: not valid gzip data.");
        }
    }

    /// <summary>Whether a comma-separated grpc-accept-encoding list names the encoding.</summary>
    public static bool Accepts(string? acceptEncoding, string encoding)
    {
        if (acceptEncoding is null) return false;
        foreach (var part in acceptEncoding.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            if (part.Equals(encoding, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }
}
