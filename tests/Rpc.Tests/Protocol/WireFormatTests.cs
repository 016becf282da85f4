using System.Text;
using Midia.Rpc.Protocol;

namespace Midia.Rpc.Tests.Protocol;

public sealed class WireFormatTests
{
    [Theory]
    [InlineData("1H", 36_000_000_000L)]
    [InlineData("2M", 1_200_000_000L)]
    [InlineData("30S", 300_000_000L)]
    [InlineData("100m", 1_000_000L)]
    [InlineData("250u", 2_500L)]
    [InlineData("1000n", 10L)]
    [InlineData("1n", 1L)]              // rounds up to one tick: never a zero deadline for a positive timeout
    [InlineData("00000005S", 50_000_000L)]
    public void GrpcTimeoutParsesEveryUnit(string text, long ticks)
    {
        Assert.True(GrpcTimeout.TryParse(text, out var timeout));
        Assert.Equal(ticks, timeout.Ticks);
    }

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("5")]
    [InlineData("123456789S")]   // nine digits
    [InlineData("10x")]
    [InlineData("-1S")]
    [InlineData("1.5S")]
    [InlineData(" 1S")]
    [InlineData("1s")]
    [InlineData("1SS")]
    public void GrpcTimeoutRejectsMalformedValues(string text) => Assert.False(GrpcTimeout.TryParse(text, out _));

    [Fact]
    public void AFormattedTimeoutNeverShrinksAndStaysWithinEightDigits()
    {
        var random = new Random(11);
        for (var i = 0; i < 2000; i++)
        {
            var timeout = TimeSpan.FromTicks((long)(Math.Pow(10, random.NextDouble() * 17)));
            var text = GrpcTimeout.Format(timeout);
            Assert.InRange(text.Length, 2, 9);
            Assert.True(GrpcTimeout.TryParse(text, out var parsed), text);
            Assert.True(parsed >= timeout || parsed.TotalDays > 24, $"{timeout} -> {text} -> {parsed}");
            // At most one unit of the chosen precision longer; a unit is only chosen when the value needs >= 10^5 of it.
            Assert.True(parsed - timeout <= TimeSpan.FromTicks(Math.Max(1, timeout.Ticks / 100_000)) || parsed.TotalDays > 24, $"{timeout} -> {text}");
        }
    }

    [Theory]
    [InlineData("plain ascii", "plain ascii")]
    [InlineData("100%", "100%25")]
    [InlineData("tab\there", "tab%09here")]
    [InlineData("☺", "%E2%98%BA")]
    [InlineData("😈", "%F0%9F%98%88")]
    public void PercentEncodingEscapesUtf8BytesOutsidePrintableAscii(string value, string wire)
    {
        Assert.Equal(wire, PercentEncoding.Encode(value));
        Assert.Equal(value, PercentEncoding.Decode(wire));
    }

    [Theory]
    [InlineData("%", "%")]
    [InlineData("%4", "%4")]
    [InlineData("%zz and %41", "%zz and A")]
    [InlineData("%FF", "\uFFFD")]   // not UTF-8: replaced, never an exception
    public void PercentDecodingNeverFails(string wire, string value) => Assert.Equal(value, PercentEncoding.Decode(wire));

    [Fact]
    public void PercentEncodingRoundTripsRandomText()
    {
        var random = new Random(5);
        for (var i = 0; i < 500; i++)
        {
            var builder = new StringBuilder();
            for (var j = random.Next(30); j > 0; j--)
            {
                var code = random.Next(4) switch { 0 => random.Next(0, 128), 1 => random.Next(0x80, 0xD800), 2 => random.Next(0xE000, 0x10000), _ => random.Next(0x10000, 0x110000) };
                builder.Append(char.ConvertFromUtf32(code));
            }
            var text = builder.ToString();
            var wire = PercentEncoding.Encode(text);
            Assert.All(wire, c => Assert.InRange(c, ' ', '~'));
            Assert.Equal(text, PercentEncoding.Decode(wire));
        }
    }

    [Theory]
    [InlineData("AAEC+vs=", new byte[] { 0, 1, 2, 250, 251 })]
    [InlineData("AAEC+vs", new byte[] { 0, 1, 2, 250, 251 })]
    [InlineData("AA==", new byte[] { 0 })]
    [InlineData("AA", new byte[] { 0 })]
    [InlineData("", new byte[0])]
    public void BinaryHeadersAcceptPaddedAndUnpaddedBase64(string value, byte[] bytes)
    {
        Assert.True(BinaryHeader.TryDecode(value, out var decoded));
        Assert.Equal(bytes, decoded);
    }

    [Theory]
    [InlineData("A")]
    [InlineData("!!!!")]
    [InlineData("AA=A")]
    public void InvalidBase64IsRefused(string value) => Assert.False(BinaryHeader.TryDecode(value, out _));
}
