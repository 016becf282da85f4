using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using Google.Protobuf;
using Grpc.Testing;
using Midia.Trust;
using Xunit.Abstractions;

namespace Midia.Interop.Tests.Hostile;

/// <summary>
/// Generated hostile client streams (seeded) sent to a client-streaming RPC of our network server
/// (TestService/StreamingInputCall, which sums its messages' payload sizes) in random DATA-frame
/// chunkings: truncated frames, lying length prefixes, huge declared lengths, bad flags, corrupt or
/// bombing gzip. Each answer is checked against an independent reading of the stream by the spec
/// (the sum for a clean stream, the first fault otherwise), mapped to the status grpc-dotnet gives
/// that fault.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class MessageStreamFuzzTests(InteropFixture fixture, ITestOutputHelper output) : IDisposable
{
    const int Limit = 4 * 1024 * 1024;
    const string Path = "/grpc.testing.TestService/StreamingInputCall";
    readonly TlsMaterial clientTls = fixture.Pki.ClientTls();

    public void Dispose() => clientTls.Dispose();

    /// <summary>The first thing wrong with a stream, as the spec reads it.</summary>
    enum Fault { None, Incomplete, BadFlag, TooLarge, LengthBeyondInt32, CompressedWithoutEncoding, CorruptGzip, InflatesTooLarge, InflatesTooLargeThenCorrupt, Unparsable }

    /// <summary>
    /// grpc-dotnet's status for each fault: its own RpcExceptions keep their codes; the exceptions
    /// it lets through from the reader (an InvalidDataException for a bad flag or corrupt gzip, an
    /// IOException for a length above 2 GiB, InvalidProtocolBufferException) reach the handler's
    /// MoveNext and end the call UNKNOWN with no detail.
    /// </summary>
    static string[] Status(Fault fault) => fault switch
    {
        Fault.None => ["0"],
        Fault.Incomplete or Fault.CompressedWithoutEncoding => ["13"],
        Fault.TooLarge or Fault.InflatesTooLarge => ["8"],
        Fault.InflatesTooLargeThenCorrupt => ["8", "2"],
        Fault.BadFlag or Fault.LengthBeyondInt32 or Fault.CorruptGzip or Fault.Unparsable => ["2"],
        _ => throw new ArgumentOutOfRangeException(nameof(fault)),
    };

    static byte[] Gzip(byte[] data)
    {
        using var stream = new MemoryStream();
        using (var gzip = new GZipStream(stream, CompressionLevel.Fastest)) gzip.Write(data);
        return stream.ToArray();
    }

    static byte[] Message(Random random, int size) =>
        new StreamingInputCallRequest { Payload = new Payload { Body = ByteString.CopyFrom(new byte[size]) } }.ToByteArray();

    /// <summary>A stream of frames, most good, some broken in one of several ways, and whether the call declared gzip.</summary>
    static (string Kind, byte[] Body, bool Gzip) RandomStream(Random random)
    {
        var gzip = random.Next(3) > 0;
        var body = new List<byte>();
        var kind = "valid frames";
        for (var i = random.Next(0, 5); i >= 0; i--)
        {
            var message = Message(random, random.Next(0, random.Next(2) == 0 ? 64 : 3000));
            var compressed = gzip && random.Next(2) == 0;
            var payload = compressed ? Gzip(message) : message;
            var frame = RawGrpc.Frame(payload, compressed ? (byte)1 : (byte)0);
            switch (random.Next(14))
            {
                case 0: kind = "truncated frame"; frame = frame[..random.Next(0, frame.Length)]; break;
                case 1: kind = "length prefix too long"; BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)(payload.Length + random.Next(1, 100))); break;
                case 2: kind = "length prefix too short"; BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)Math.Max(0, payload.Length - random.Next(1, 100))); break;
                case 3: kind = "huge declared length"; BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)random.NextInt64(Limit + 1, uint.MaxValue + 1L)); break;
                case 4: kind = "bad compressed flag"; frame[0] = (byte)random.Next(2, 256); break;
                case 5: kind = "compressed flag on plain bytes"; frame[0] = 1; break;
                case 6: kind = "flipped bytes"; for (var k = random.Next(1, 4); k > 0; k--) frame[random.Next(frame.Length)] ^= (byte)random.Next(1, 256); break;
                case 7: kind = "garbage"; frame = new byte[random.Next(0, 64)]; random.NextBytes(frame); break;
                case 8:
                    kind = "gzip bomb";
                    var bomb = Gzip(Message(random, random.Next(Limit + 1, 2 * Limit)));
                    frame = RawGrpc.Frame(bomb, 1);
                    break;
                case 9:
                    kind = "truncated gzip";
                    var cut = Gzip(message)[..random.Next(0, 20)];
                    frame = RawGrpc.Frame(cut, 1);
                    break;
            }
            body.AddRange(frame);
        }
        return (kind, [.. body], gzip);
    }

    /// <summary>The spec's reading: header (flag, then length, checked against the limit), the whole message, its decompression, its parse.</summary>
    static (Fault Fault, int Total) Expected(byte[] body, bool gzip)
    {
        var total = 0;
        for (var at = 0; at < body.Length;)
        {
            if (body.Length - at < 5) return (Fault.Incomplete, total);
            var flag = body[at];
            if (flag > 1) return (Fault.BadFlag, total);
            var length = BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(at + 1));
            if (length > int.MaxValue) return (Fault.LengthBeyondInt32, total);
            if (length > Limit) return (Fault.TooLarge, total);
            if (body.Length - at - 5 < length) return (Fault.Incomplete, total);
            var payload = body.AsSpan(at + 5, (int)length).ToArray();
            at += 5 + (int)length;
            if (flag == 1)
            {
                if (!gzip) return (Fault.CompressedWithoutEncoding, total);
                try
                {
                    using var inflate = new GZipStream(new MemoryStream(payload), CompressionMode.Decompress);
                    var inflated = new byte[Limit + 1];
                    var read = 0;
                    int n;
                    while (read < inflated.Length && (n = inflate.Read(inflated, read, inflated.Length - read)) > 0) read += n;
                    if (read > Limit)
                    {
                        try { inflate.CopyTo(Stream.Null); }
                        catch (InvalidDataException) { return (Fault.InflatesTooLargeThenCorrupt, total); }
                        return (Fault.InflatesTooLarge, total);
                    }
                    payload = inflated[..read];
                }
                catch (InvalidDataException) { return (Fault.CorruptGzip, total); }
            }
            try { total += StreamingInputCallRequest.Parser.ParseFrom(payload).Payload?.Body.Length ?? 0; }
            catch (InvalidProtocolBufferException) { return (Fault.Unparsable, total); }
        }
        return (Fault.None, total);
    }

    /// <summary>The body in DATA frames of a given size.</summary>
    sealed class ChunkedContent(byte[] body, int chunk) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var at = 0; at < body.Length; at += chunk)
            {
                await stream.WriteAsync(body.AsMemory(at, Math.Min(chunk, body.Length - at)));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }

    [Fact]
    public async Task EveryHostileClientStreamIsAnsweredAsTheSpecSaysInAnyChunking()
    {
        const int count = 300;
        var random = new Random(8_0101);
        var inputs = Enumerable.Range(0, count).Select(_ =>
        {
            var (kind, body, gzip) = RandomStream(random);
            var chunk = random.Next(3) == 0 ? random.Next(1, 8) : random.Next(8, 16384);
            return (Kind: kind, Body: body, Gzip: gzip, Chunk: chunk, Expected: Expected(body, gzip));
        }).ToList();
        using var raw = new RawGrpc(fixture.Host.Address, clientTls);
        var tally = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var failures = new List<string>();
        foreach (var batch in inputs.Chunk(8))
        {
            var answers = await Task.WhenAll(batch.Select(input => raw.SendAsync(Path, new ChunkedContent(input.Body, input.Chunk),
                input.Gzip ? [("grpc-encoding", "gzip")] : [], timeout: TimeSpan.FromSeconds(60))));
            foreach (var (input, answer) in batch.Zip(answers))
            {
                var (fault, total) = input.Expected;
                var status = answer.GrpcStatus ?? answer.Outcome;
                var ok = Status(fault).Contains(status);
                if (ok && fault == Fault.None)
                    ok = StreamingInputCallResponse.Parser.ParseFrom(Assert.Single(answer.Messages).Bytes).AggregatedPayloadSize == total;
                if (!ok) failures.Add($"{input.Kind} (gzip {input.Gzip}, chunks of {input.Chunk}): expected {fault} → status {string.Join(" or ", Status(fault))}" +
                    $"{(fault == Fault.None ? $" with total {total}" : "")}, got {status} ({answer.GrpcMessage})\n{Convert.ToHexString(input.Body[..Math.Min(input.Body.Length, 120)])}");
                var outcome = $"{input.Kind} -> {fault} -> {status}";
                tally[outcome] = tally.GetValueOrDefault(outcome) + 1;
            }
        }
        output.WriteLine($"{count} hostile client streams:");
        foreach (var (outcome, n) in tally) output.WriteLine($"  {outcome}: {n}");
        Assert.Empty(failures);
        Assert.Contains(tally.Keys, k => k.StartsWith("gzip bomb", StringComparison.Ordinal) && k.EndsWith("-> 8", StringComparison.Ordinal));
        Assert.Contains(tally.Keys, k => k.EndsWith("TooLarge -> 8", StringComparison.Ordinal));
    }
}
