using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;
using Midia.Rpc.Core;

namespace Midia.Rpc.Protocol;

/// <summary>
/// Length-prefixed messages: 1-byte compressed flag, 4-byte big-endian length, payload. DATA frame
/// boundaries mean nothing; a message may span many reads and a read may hold many messages.
/// </summary>
public static class MessageFraming
{
    public const int HeaderSize = 5;
    public const int DefaultMaxReceiveMessageSize = 4 * 1024 * 1024;

    /// <summary>Frames one message into the writer (not flushed). Compresses unless encoding is null or identity.</summary>
    public static void Write(IBufferWriter<byte> writer, IMessage message, string? encoding, int? maxSendMessageSize)
    {
        var size = message.CalculateSize();
        if (size > maxSendMessageSize)
            throw new RpcException(StatusCode.ResourceExhausted, $"Sending message exceeds the maximum configured message size ({maxSendMessageSize} bytes).");
        if (encoding is null or MessageCompression.Identity)
        {
            var span = writer.GetSpan(HeaderSize + size);
            span[0] = 0;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)size);
            message.WriteTo(span.Slice(HeaderSize, size));
            writer.Advance(HeaderSize + size);
            return;
        }
        var compressed = MessageCompression.Compress(message.ToByteArray());
        var target = writer.GetSpan(HeaderSize + compressed.Length);
        target[0] = 1;
        BinaryPrimitives.WriteUInt32BigEndian(target[1..], (uint)compressed.Length);
        compressed.CopyTo(target[HeaderSize..]);
        writer.Advance(HeaderSize + compressed.Length);
    }

    static (byte Flag, uint Length) ReadHeader(ReadOnlySequence<byte> buffer)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        return (header[0], BinaryPrimitives.ReadUInt32BigEndian(header[1..]));
    }

    /// <summary>
    /// Reads the next message, or default at the clean end of the stream. Protocol violations throw
    /// RpcException: a truncated message or bad flag is INTERNAL, an oversized one RESOURCE_EXHAUSTED.
    /// </summary>
    /// <param name="compressed">Told, for each message read, whether it arrived with the compressed flag.</param>
    public static async ValueTask<T?> ReadAsync<T>(PipeReader reader, MessageParser<T> parser, string? encoding, int maxReceiveMessageSize, CancellationToken cancellationToken,
        Action<bool>? compressed = null)
        where T : class, IMessage<T>
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (result.IsCanceled) throw new OperationCanceledException(cancellationToken);
            if (buffer.Length >= HeaderSize)
            {
                var (flag, length) = ReadHeader(buffer);
                if (flag > 1)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new RpcException(StatusCode.Internal, $"Unexpected compressed flag value {flag} in message header.");
                }
                if (length > (uint)maxReceiveMessageSize)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new RpcException(StatusCode.ResourceExhausted, $"Received message exceeds the maximum configured message size ({maxReceiveMessageSize} bytes).");
                }
                if (buffer.Length >= HeaderSize + length)
                {
                    var payload = buffer.Slice(HeaderSize, length);
                    compressed?.Invoke(flag == 1);
                    T message;
                    try
                    {
                        if (flag == 0) message = parser.ParseFrom(payload);
                        else
                        {
                            if (encoding is null or MessageCompression.Identity)
                                throw new RpcException(StatusCode.Internal, "Message is marked compressed but no grpc-encoding was given.");
                            // Callers refuse unknown encodings up front; never guess one here.
                            if (!MessageCompression.IsSupported(encoding))
                                throw new RpcException(StatusCode.Internal, $"Message is compressed with unsupported grpc-encoding '{encoding}'.");
                            message = parser.ParseFrom(MessageCompression.Decompress(payload.ToArray(), maxReceiveMessageSize));
                        }
                    }
                    catch (InvalidProtocolBufferException e)
                    {
                        throw new RpcException(StatusCode.Internal, $"Failed to deserialize message: {e.Message}");
                    }
                    finally
                    {
                        reader.AdvanceTo(buffer.GetPosition(HeaderSize + length));
                    }
                    return message;
                }
            }
            if (result.IsCompleted)
            {
                var leftover = buffer.Length;
                reader.AdvanceTo(buffer.End);
                if (leftover == 0) return default;
                throw new RpcException(StatusCode.Internal, "Incomplete message: the stream ended inside a message.");
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
