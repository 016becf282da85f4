using Grpc.Core;

namespace Midia.Security.Tests.Support;

/// <summary>The authorization matrix as a Markdown table: | server | rpc | one outcome per identity |.</summary>
public sealed record MatrixTable(IReadOnlyList<string> Identities, IReadOnlyDictionary<(string Server, string Rpc), string[]> Rows)
{
    public const string Allowed = "allowed", Denied = "denied", TlsRefused = "TLS refused";
    static readonly string[] Outcomes = [Allowed, Denied, TlsRefused];

    public static MatrixTable Parse(string markdown)
    {
        var lines = Lines(markdown);
        if (lines.Count < 3) throw new FormatException("the matrix needs a header, a separator and rows");
        var header = Cells(lines[0]);
        if (header.Length < 3 || header[0] != "server" || header[1] != "rpc") throw new FormatException($"the header must start | server | rpc |: {lines[0]}");
        var identities = header[2..];
        var rows = new Dictionary<(string, string), string[]>();
        foreach (var line in lines.Skip(2))
        {
            var cells = Cells(line);
            if (cells.Length != header.Length) throw new FormatException($"{cells.Length} cells, not {header.Length}: {line}");
            foreach (var cell in cells[2..])
                if (!Outcomes.Contains(cell)) throw new FormatException($"'{cell}' is not one of {string.Join(", ", Outcomes)}: {line}");
            if (!rows.TryAdd((cells[0], cells[1]), cells[2..])) throw new FormatException($"two rows for {cells[0]} {cells[1]}");
        }
        return new MatrixTable(identities, rows);
    }

    /// <summary>The table's lines, each normalised (cells trimmed, separator dashes collapsed), for comparing two copies.</summary>
    public static List<string> Lines(string markdown) =>
        [.. markdown.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith('|'))
            .Select(l => "|" + string.Join("|", Cells(l).Select(c => c.All(ch => ch is '-' or ':') ? "-" : c)) + "|")];

    static string[] Cells(string line) => [.. line.Trim().Trim('|').Split('|').Select(c => c.Trim())];

    /// <summary>Which column a call's outcome belongs in. Any other status the server sent (a domain refusal, a
    /// downstream site that timed out) means authorization let the call through.</summary>
    public static string Classify(CallOutcome outcome) => outcome.Status switch
    {
        null => TlsRefused,
        StatusCode.PermissionDenied => Denied,
        StatusCode.Unauthenticated => "unauthenticated",
        // Past authorization, but broken: a crash, a protocol error, or a bound RPC nobody implemented.
        StatusCode.Unknown or StatusCode.Internal or StatusCode.Unimplemented => $"error ({outcome.Status})",
        _ => Allowed,
    };

    public static string Format(IReadOnlyList<string> identities, IReadOnlyDictionary<(string Server, string Rpc), string[]> rows) =>
        $"| server | rpc | {string.Join(" | ", identities)} |\n" +
        string.Join("\n", rows.Select(r => $"| {r.Key.Server} | {r.Key.Rpc} | {string.Join(" | ", r.Value)} |"));
}
