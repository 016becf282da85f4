namespace Midia.Node.Store;

/// <summary>The site a serving node answers for, as the coordinator's sites file and its certificate name it.</summary>
public sealed record NodeSite(string Id)
{
    /// <summary>Whether answered queries go to the usage ledger; off only for the benchmark's baseline.</summary>
    public bool RecordUsage { get; init; } = true;
}
