using System.Globalization;

namespace Midia.Rpc.Protocol;

/// <summary>The grpc-timeout header: at most 8 ASCII digits and one unit of H M S m u n.</summary>
public static class GrpcTimeout
{
    const long MaxValue = 99_999_999;
    // Beyond this a timer cannot be set; longer deadlines are treated as this (about 24 days).
    static readonly TimeSpan Longest = TimeSpan.FromMilliseconds(int.MaxValue - 1);

    public static bool TryParse(string? text, out TimeSpan timeout)
    {
        timeout = default;
        if (text is null || text.Length < 2 || text.Length > 9) return false;
        long value = 0;
        for (var i = 0; i < text.Length - 1; i++)
        {
            var c = text[i];
            if (c is < '0' or > '9') return false;
            value = value * 10 + (c - '0');
        }
        double ticks = text[^1] switch
        {
            'H' => value * (double)TimeSpan.TicksPerHour,
            'M' => value * (double)TimeSpan.TicksPerMinute,
            'S' => value * (double)TimeSpan.TicksPerSecond,
            'm' => value * (double)TimeSpan.TicksPerMillisecond,
            'u' => value * 10.0,
            'n' => Math.Ceiling(value / 100.0),
            _ => -1,
        };
        if (ticks < 0) return false;
        timeout = ticks >= Longest.Ticks ? Longest : TimeSpan.FromTicks((long)ticks);
        return true;
    }

    /// <summary>The shortest exact-enough encoding that fits in 8 digits (rounding up, never down).</summary>
    public static string Format(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero) return "1n";
        var ticks = timeout.Ticks;
        if (ticks <= MaxValue / 100) return (ticks * 100).ToString(CultureInfo.InvariantCulture) + "n";
        var micros = (ticks + 9) / 10;
        if (micros <= MaxValue) return micros.ToString(CultureInfo.InvariantCulture) + "u";
        var millis = (ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond;
        if (millis <= MaxValue) return millis.ToString(CultureInfo.InvariantCulture) + "m";
        var seconds = (ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond;
        if (seconds <= MaxValue) return seconds.ToString(CultureInfo.InvariantCulture) + "S";
        var minutes = (ticks + TimeSpan.TicksPerMinute - 1) / TimeSpan.TicksPerMinute;
        if (minutes <= MaxValue) return minutes.ToString(CultureInfo.InvariantCulture) + "M";
        return Math.Min(MaxValue, (ticks + TimeSpan.TicksPerHour - 1) / TimeSpan.TicksPerHour).ToString(CultureInfo.InvariantCulture) + "H";
    }
}
