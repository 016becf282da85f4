using System.Globalization;
using Midia.Hosting;

namespace Midia.Node.Store;

/// <summary>Dates on the command line: YYYY-MM-DD, read as Days; shown back the same way.</summary>
public static class DateFlag
{
    public static int? Parse(string? text, string flag)
    {
        if (text is null) return null;
        return DateOnly.TryParseExact(text.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? Days.From(date)
            : throw new CommandException($"{flag}: expected a date YYYY-MM-DD, got '{text}'");
    }

    public static string? Format(long? days) => days is null ? null : Days.ToDate(days.Value).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
