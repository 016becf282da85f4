using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Pipelines;
using System.Text;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Midia.Rpc.Core;
using Midia.Rpc.Protocol;
using Midia.Rpc.Tests.Proto;
using Xunit.Abstractions;

namespace Midia.Rpc.Tests.Hostile;

/// <summary>
/// The protocol helpers under generated hostile input (seeded): message streams with truncated
/// frames, lying length prefixes, huge declared lengths, bad flags, corrupt or bombing gzip, read
/// through pipes in random chunk sizes; and random grpc-timeout, content-type, -bin and
/// grpc-message values. Each is checked against an independent reading of the spec, and no input
/// may throw anything but an RpcException with the status the spec names.
/// </summary>
public sealed partial class ProtocolFuzzTests(ITestOutputHelper output)
{
    const int Limit = 1024;

    static byte[] Gzip(byte[] data)
    {
        using var stream = new MemoryStream();
        using (var gzip = new GZipStream(stream, CompressionLevel.Fastest)) gzip.Write(data);
        return stream.ToArray();
    }

    static byte[] Frame(byte flag, uint length, byte[] payload)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    static EchoRequest RandomMessage(Random random) => new()
    {
        Text = new string((char)random.Next('a', 'z' + 1), random.Next(0, 40)),
        Payload = ByteString.CopyFrom(new byte[random.Next(0, random.Next(2) == 0 ? 64 : Limit + 200)]),
        Count = random.Next(-5, 5),
    };

    /// <summary>A stream of frames, most good, some broken in one of several ways, and which encoding the call declared.</summary>
    static (string Kind, byte[] Body, string? Encoding) RandomStream(Random random)
    {
        var encoding = random.Next(4) switch { 0 => null, 1 => "identity", _ => "gzip" };
        var body = new List<byte>();
        var kind = "valid frames";
        for (var i = random.Next(0, 5); i >= 0; i--)
        {
            var message = RandomMessage(random).ToByteArray();
            var compressed = encoding == "gzip" && random.Next(2) == 0;
            var payload = compressed ? Gzip(message) : message;
            var frame = Frame(compressed ? (byte)1 : (byte)0, (uint)payload.Length, payload);
            switch (random.Next(12))
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
                    var bomb = Gzip(new EchoRequest { Payload = ByteString.CopyFrom(new byte[random.Next(Limit + 1, 64 * Limit)]) }.ToByteArray());
                    frame = Frame(1, (uint)bomb.Length, bomb);
                    break;
                case 9:
                    kind = "truncated gzip";
                    var cut = Gzip(message)[..random.Next(0, 20)];
                    frame = Frame(1, (uint)cut.Length, cut);
                    break;
            }
            body.AddRange(frame);
        }
        return (kind, [.. body], encoding);
    }

    /// <summary>
    /// What the spec says the reader must yield: the messages, then the end or a status. Gzip that
    /// inflates beyond the limit and is corrupt further on may be refused for either reason.
    /// </summary>
    static (List<EchoRequest> Messages, StatusCode[] Error) Expected(byte[] body, string? encoding)
        => ExpectedOne(body, encoding);

    static (List<EchoRequest> Messages, StatusCode[] Error) ExpectedOne(byte[] body, string? encoding)
    {
        var messages = new List<EchoRequest>();
        var at = 0;
        while (true)
        {
            if (at == body.Length) return (messages, []);
            if (body.Length - at < 5) return (messages, [StatusCode.Internal]);
            var flag = body[at];
            var length = BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(at + 1));
            if (flag > 1) return (messages, [StatusCode.Internal]);
            if (length > Limit) return (messages, [StatusCode.ResourceExhausted]);
            if (body.Length - at - 5 < length) return (messages, [StatusCode.Internal]);
            var payload = body.AsSpan(at + 5, (int)length).ToArray();
            at += 5 + (int)length;
            if (flag == 1)
            {
                if (encoding is null or "identity") return (messages, [StatusCode.Internal]);
                try
                {
                    using var gzip = new GZipStream(new MemoryStream(payload), CompressionMode.Decompress);
                    var inflated = new byte[Limit + 1];
                    var total = 0;
                    int read;
                    while (total < inflated.Length && (read = gzip.Read(inflated, total, inflated.Length - total)) > 0) total += read;
                    if (total > Limit)
                    {
                        try { gzip.CopyTo(Stream.Null); }
                        catch (InvalidDataException) { return (messages, [StatusCode.ResourceExhausted, StatusCode.Internal]); }
                        return (messages, [StatusCode.ResourceExhausted]);
                    }
                    payload = inflated[..total];
                }
                catch (InvalidDataException) { return (messages, [StatusCode.Internal]); }
            }
            try { messages.Add(EchoRequest.Parser.ParseFrom(payload)); }
            catch (InvalidProtocolBufferException) { return (messages, [StatusCode.Internal]); }
        }
    }

    static async Task<(List<EchoRequest> Messages, StatusCode? Error, string? Detail)> Actual(byte[] body, string? encoding, int chunk)
    {
        var reader = PipeReader.Create(new MemoryStream(body), new StreamPipeReaderOptions(bufferSize: chunk, minimumReadSize: Math.Min(chunk, 1)));
        var messages = new List<EchoRequest>();
        try
        {
            while (await MessageFraming.ReadAsync(reader, EchoRequest.Parser, encoding, Limit, CancellationToken.None) is { } message)
                messages.Add(message);
            return (messages, null, null);
        }
        catch (RpcException e)
        {
            return (messages, e.StatusCode, e.Status.Detail);
        }
    }

    [Fact]
    public async Task EveryHostileMessageStreamReadsAsTheSpecSaysInAnyChunking()
    {
        const int count = 10_000;
        var random = new Random(8_0101);
        var tally = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var (kind, body, encoding) = RandomStream(random);
            var chunk = random.Next(3) == 0 ? random.Next(1, 8) : random.Next(8, 4096);
            var expected = Expected(body, encoding);
            var actual = await Actual(body, encoding, chunk);
            Assert.True(actual.Error is null ? expected.Error.Length == 0 : expected.Error.Contains(actual.Error.Value),
                $"{kind} (encoding {encoding ?? "none"}, chunks of {chunk}): expected {(expected.Error.Length == 0 ? "clean end" : string.Join(" or ", expected.Error))}, got {actual.Error?.ToString() ?? "clean end"} ({actual.Detail})\n{Convert.ToHexString(body[..Math.Min(body.Length, 300)])}");
            Assert.Equal(expected.Messages, actual.Messages);
            var outcome = $"{kind} -> {actual.Error?.ToString() ?? "ok"}";
            tally[outcome] = tally.GetValueOrDefault(outcome) + 1;
        }
        output.WriteLine($"{count} hostile message streams:");
        foreach (var (outcome, n) in tally) output.WriteLine($"  {outcome}: {n}");
        Assert.Contains(tally.Keys, k => k.EndsWith("ResourceExhausted", StringComparison.Ordinal));
        Assert.Contains(tally.Keys, k => k.StartsWith("gzip bomb", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AHugeDeclaredLengthIsRefusedBeforeAnythingIsAllocatedForIt()
    {
        var body = Frame(0, uint.MaxValue, new byte[10]);
        var reader = PipeReader.Create(new MemoryStream(body));
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var refusal = await Assert.ThrowsAsync<RpcException>(async () =>
            await MessageFraming.ReadAsync(reader, EchoRequest.Parser, null, MessageFraming.DefaultMaxReceiveMessageSize, CancellationToken.None));
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.Equal(StatusCode.ResourceExhausted, refusal.StatusCode);
        Assert.True(allocated < 256 * 1024, $"{allocated} bytes allocated to refuse a 4 GiB message");
    }

    /// <summary>256 MiB of zeros in ~256 KB of gzip: refused once 4 MiB are inflated, not after all of it.</summary>
    [Fact]
    public void AGzipBombIsResourceExhaustedAfterAtMostTheLimit()
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 256; i++) gzip.Write(zeros);
        }
        var bomb = compressed.ToArray();
        Assert.True(bomb.Length < 1 << 20, $"bomb of {bomb.Length} bytes");
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var refusal = Assert.Throws<RpcException>(() => MessageCompression.Decompress(bomb, MessageFraming.DefaultMaxReceiveMessageSize));
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.Equal(StatusCode.ResourceExhausted, refusal.StatusCode);
        output.WriteLine($"gzip bomb: {bomb.Length:N0} bytes declaring 256 MiB, refused after {allocated / (1 << 20)} MiB allocated");
        Assert.True(allocated < 24L << 20, $"{allocated >> 20} MiB allocated: the bomb was inflated beyond the limit");
    }

    [Fact]
    public async Task ACompressedMessageUnderAnUnknownEncodingIsRefusedNotGuessed()
    {
        var body = Frame(1, 0, []);
        foreach (var encoding in new[] { "br", "deflate", "snappy", "GZIP ", "" })
        {
            var refusal = await Assert.ThrowsAsync<RpcException>(async () =>
                await MessageFraming.ReadAsync(PipeReader.Create(new MemoryStream(Gzip(body))), EchoRequest.Parser, encoding, Limit, CancellationToken.None));
            Assert.Equal(StatusCode.Internal, refusal.StatusCode);
        }
        var framed = Frame(1, (uint)Gzip(new EchoRequest { Text = "x" }.ToByteArray()).Length, Gzip(new EchoRequest { Text = "x" }.ToByteArray()));
        var unknown = await Assert.ThrowsAsync<RpcException>(async () =>
            await MessageFraming.ReadAsync(PipeReader.Create(new MemoryStream(framed)), EchoRequest.Parser, "br", Limit, CancellationToken.None));
        Assert.Contains("'br'", unknown.Status.Detail);
    }

    // ---- headers ----

    static string RandomHeaderValue(Random random)
    {
        const string alphabet = "0123456789HMSmunhsx -+.;=/,%\t";
        var length = random.Next(0, 14);
        var text = new StringBuilder();
        for (var i = 0; i < length; i++)
            text.Append(random.Next(5) switch
            {
                0 => (char)random.Next(0, 0x80),
                1 => (char)random.Next(0x80, 0x10000),
                _ => alphabet[random.Next(alphabet.Length)],
            });
        return text.ToString();
    }

    [GeneratedRegex("^[0-9]{1,8}[HMSmun]$")]
    private static partial Regex TimeoutSyntax();

    [GeneratedRegex(@"^\s*application/grpc(\+proto)?\s*(;.*)?$", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex GrpcContentTypeSyntax();

    [Fact]
    public void RandomGrpcTimeoutsParseExactlyWhenTheSpecAllowsThemAndNeverThrow()
    {
        const int count = 20_000;
        var random = new Random(8_0102);
        int accepted = 0;
        for (var i = 0; i < count; i++)
        {
            var text = random.Next(4) == 0
                ? random.Next(0, random.Next(2) == 0 ? 1000 : 1_000_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture) + "HMSmunx"[random.Next(7)]
                : RandomHeaderValue(random);
            var ok = GrpcTimeout.TryParse(text, out var timeout);
            Assert.True(ok == TimeoutSyntax().IsMatch(text), $"'{text}': parsed {ok}");
            if (!ok) continue;
            accepted++;
            Assert.InRange(timeout, TimeSpan.Zero, TimeSpan.FromMilliseconds(int.MaxValue));
        }
        output.WriteLine($"{count} grpc-timeout values, {accepted} valid");
        Assert.InRange(accepted, count / 20, count - count / 20);
    }

    [Fact]
    public void RandomContentTypesAreGrpcExactlyWhenTheSpecSaysSo()
    {
        const int count = 20_000;
        var random = new Random(8_0103);
        string[] stems = ["application/grpc", "application/grpc+proto", "application/grpc+json", "APPLICATION/GRPC", "application/grpc-web", "text/plain", "application/grp", ""];
        int grpc = 0;
        for (var i = 0; i < count; i++)
        {
            var text = random.Next(3) == 0 ? RandomHeaderValue(random)
                : (random.Next(3) == 0 ? " " : "") + stems[random.Next(stems.Length)] + (random.Next(2) == 0 ? "" : RandomHeaderValue(random));
            var ok = GrpcHeaders.IsGrpcContentType(text);
            // .NET's Trim also trims Unicode spaces; the regex \s does too.
            Assert.True(ok == GrpcContentTypeSyntax().IsMatch(text), $"'{text}': {ok}");
            if (ok) grpc++;
        }
        Assert.False(GrpcHeaders.IsGrpcContentType(null));
        output.WriteLine($"{count} content-type values, {grpc} gRPC");
        Assert.InRange(grpc, count / 50, count / 2);
    }

    [Fact]
    public void RandomBinaryHeaderValuesDecodeOnlyToWhatReEncodesAndNeverThrow()
    {
        const int count = 20_000;
        var random = new Random(8_0104);
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
        int decoded = 0;
        for (var i = 0; i < count; i++)
        {
            if (random.Next(2) == 0)
            {
                // Any bytes, sent padded or unpadded, come back exactly.
                var bytes = new byte[random.Next(0, 64)];
                random.NextBytes(bytes);
                var text = BinaryHeader.Encode(bytes);
                if (random.Next(2) == 0) text = text.TrimEnd('=');
                Assert.True(BinaryHeader.TryDecode(text, out var back), text);
                Assert.Equal(bytes, back);
                continue;
            }
            var value = new string(Enumerable.Range(0, random.Next(0, 40)).Select(_ => random.Next(8) == 0 ? (char)random.Next(0, 0x3000) : alphabet[random.Next(alphabet.Length)]).ToArray());
            if (!BinaryHeader.TryDecode(value, out var result)) continue;
            decoded++;
            Assert.True(BinaryHeader.TryDecode(BinaryHeader.Encode(result), out var again));
            Assert.Equal(result, again);
            // Only base64 characters (and whitespace, which base64 ignores) decode.
            Assert.All(value.Where(c => !char.IsWhiteSpace(c)), c => Assert.Contains(c, alphabet));
        }
        output.WriteLine($"{count} -bin values ({count / 2} random strings, {decoded} of them decoded)");
    }

    [Fact]
    public void RandomGrpcMessagesDecodeWithoutThrowingAndTextRoundTrips()
    {
        const int count = 20_000;
        var random = new Random(8_0105);
        for (var i = 0; i < count; i++)
        {
            var wire = new string(Enumerable.Range(0, random.Next(0, 30)).Select(_ => random.Next(3) == 0 ? '%' : random.Next(2) == 0 ? "0123456789ABCDEFabcdefXYZ"[random.Next(25)] : (char)random.Next(0, 0x10000)).ToArray());
            var text = PercentEncoding.Decode(wire);
            // Whatever came in, what goes out is printable ASCII that decodes back to the same text
            // (a raw lone surrogate, which no header can carry, goes out as U+FFFD).
            var encoded = PercentEncoding.Encode(text);
            Assert.All(encoded, c => Assert.InRange(c, ' ', '~'));
            if (HasLoneSurrogate(text)) continue;
            Assert.True(text == PercentEncoding.Decode(encoded), $"{string.Join(" ", wire.Select(c => ((int)c).ToString("X4")))} -> {string.Join(" ", text.Select(c => ((int)c).ToString("X4")))}");
            Assert.False(MessageCompression.Accepts(wire, "gzip") && !wire.Contains("gzip", StringComparison.OrdinalIgnoreCase));
        }
        output.WriteLine($"{count} grpc-message values");
    }

    static bool HasLoneSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(text[i])) return true;
        }
        return false;
    }

    [Fact]
    public void ARawSurrogatePairNextToAnEscapeSurvivesDecoding() =>
        Assert.Equal("%\U0001F600 ä", PercentEncoding.Decode("%25\U0001F600 %C3%A4"));
}
