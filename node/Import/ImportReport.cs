namespace Midia.Node.Import;

/// <summary>
/// One thing wrong (or skipped) in an import file. NDJSON names the line; a Bundle or single
/// resource JSON file has no useful line, so the message starts with the JSON path instead.
/// </summary>
public sealed record ImportProblem(string File, int Line, string Message)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}: {Message}" : $"{File}: {Message}";
}

/// <summary>What importing one file did. A file with any problem was applied not at all.</summary>
public sealed record ImportReport(
    string File,
    long Resources,
    long Facts,
    long Skipped,
    IReadOnlyList<ImportProblem> Problems,
    IReadOnlyList<ImportProblem> Warnings)
{
    public bool Applied => Problems.Count == 0 && !Deferred;

    /// <summary>Resources of types the node does not use, skipped, per type.</summary>
    public IReadOnlyDictionary<string, long> SkippedByType { get; init; } = new Dictionary<string, long>();

    /// <summary>Resources with status entered-in-error: written as nothing, kept out of every count.</summary>
    public long EnteredInError { get; init; }

    /// <summary>Set aside in a run (ImportFiles) for a reference another file brings; tried again, never a final report.</summary>
    internal bool Deferred { get; init; }
}
