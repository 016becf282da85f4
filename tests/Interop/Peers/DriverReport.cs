using System.Text.RegularExpressions;

namespace Midia.Interop.Peers;

/// <summary>
/// One driver run read back: the "PASS case (...)" / "FAIL case: why" line of each case. A case
/// with no line (the driver crashed before it) is failed with the driver's whole output.
/// </summary>
public sealed partial class DriverReport(PeerRun run)
{
    readonly Dictionary<string, (bool Passed, string Line)> cases = Parse(run.Stdout);

    public PeerRun Run { get; } = run;

    /// <summary>Null when the case passed; otherwise why it failed.</summary>
    public string? Failure(string interopCase) =>
        cases.TryGetValue(interopCase, out var result)
            ? result.Passed ? null : result.Line
            : $"no result line for {interopCase}; driver {Run}";

    public IReadOnlyList<string> FailedCases => cases.Where(c => !c.Value.Passed).Select(c => c.Key).ToList();

    static Dictionary<string, (bool, string)> Parse(string stdout)
    {
        var results = new Dictionary<string, (bool, string)>();
        foreach (var line in stdout.Split('\n'))
        {
            var match = ResultLine().Match(line.TrimEnd('\r'));
            if (match.Success) results[match.Groups[2].Value] = (match.Groups[1].Value == "PASS", line.TrimEnd('\r'));
        }
        return results;
    }

    [GeneratedRegex(@"^(PASS|FAIL) ([a-z_]+)\b")]
    private static partial Regex ResultLine();
}
