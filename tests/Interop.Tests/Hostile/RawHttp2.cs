using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Midia.Trust;

namespace Midia.Interop.Tests.Hostile;

/// <summary>One HTTP/2 frame as read off the wire (RFC 9113 4.1).</summary>
public readonly record struct Http2Frame(byte Type, byte Flags, int StreamId, byte[] Payload);

/// <summary>
/// HTTP/2 below what any HTTP client would send: frames written byte by byte over a mutual-TLS
/// connection (the client preface and an empty SETTINGS sent), and frames read back as they come.
/// </summary>
public sealed class RawHttp2 : IAsyncDisposable
{
    public const byte Data = 0, Headers = 1, RstStream = 3, Settings = 4, Ping = 6, GoAway = 7, WindowUpdate = 8, Continuation = 9;
    public const byte EndStream = 1, Ack = 1, EndHeaders = 4;
    /// <summary>RST_STREAM error code for a stream the server would not open (over its concurrent-stream limit).</summary>
    public const int RefusedStream = 7;

    readonly TcpClient tcp;

    RawHttp2(TcpClient tcp, SslStream stream)
    {
        this.tcp = tcp;
        Stream = stream;
    }

    public SslStream Stream { get; }

    public static async Task<RawHttp2> ConnectAsync(Uri address, TlsMaterial client, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(IPAddress.Loopback, address.Port, cancellationToken);
            var stream = new SslStream(tcp.GetStream());
            await stream.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificates = [client.Certificate],
                ApplicationProtocols = [SslApplicationProtocol.Http2],
                RemoteCertificateValidationCallback = (_, _, _, _) => true, // the server's side is under test
            }, cancellationToken);
            await stream.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(), cancellationToken);
            await stream.WriteAsync(Frame(Settings, 0, 0, []), cancellationToken);
            return new RawHttp2(tcp, stream);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    public async Task WriteAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        await Stream.WriteAsync(bytes, cancellationToken);
        await Stream.FlushAsync(cancellationToken);
    }

    /// <summary>The next frame; a SETTINGS from the server is acknowledged on the way, as a client must.</summary>
    public async Task<Http2Frame> ReadFrameAsync(CancellationToken cancellationToken)
    {
        var header = new byte[9];
        await Stream.ReadExactlyAsync(header, cancellationToken);
        var length = (header[0] << 16) | (header[1] << 8) | header[2];
        var payload = new byte[length];
        await Stream.ReadExactlyAsync(payload, cancellationToken);
        var frame = new Http2Frame(header[3], header[4], BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & int.MaxValue, payload);
        if (frame.Type == Settings && (frame.Flags & Ack) == 0) await WriteAsync(Frame(Settings, Ack, 0, []), cancellationToken);
        return frame;
    }

    public static byte[] Frame(byte type, byte flags, int streamId, byte[] payload, int? declaredLength = null)
    {
        var frame = new byte[9 + payload.Length];
        var length = declaredLength ?? payload.Length;
        frame[0] = (byte)(length >> 16);
        frame[1] = (byte)(length >> 8);
        frame[2] = (byte)length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId);
        payload.CopyTo(frame, 9);
        return frame;
    }

    /// <summary>A gRPC request's header block for a path: POST, https, application/grpc, te: trailers.</summary>
    public static byte[] RequestHeaders(string path) => HeaderBlock(
        (":method", "POST"), (":scheme", "https"), (":path", path), (":authority", "localhost"),
        ("content-type", "application/grpc"), ("te", "trailers"));

    /// <summary>HPACK literal header fields without indexing and without Huffman coding (RFC 7541 6.2.2).</summary>
    public static byte[] HeaderBlock(params (string Name, string Value)[] headers)
    {
        var block = new List<byte>();
        foreach (var (name, value) in headers)
        {
            block.Add(0);
            AddString(block, name);
            AddString(block, value);
        }
        return [.. block];

        static void AddString(List<byte> block, string text)
        {
            var bytes = Encoding.ASCII.GetBytes(text);
            if (bytes.Length < 127) block.Add((byte)bytes.Length);
            else
            {
                block.Add(127);
                var rest = bytes.Length - 127;
                while (rest >= 128) { block.Add((byte)(rest % 128 + 128)); rest /= 128; }
                block.Add((byte)rest);
            }
            block.AddRange(bytes);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Stream.DisposeAsync();
        tcp.Dispose();
    }
}
