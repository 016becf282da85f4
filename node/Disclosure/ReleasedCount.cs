namespace Midia.Node.Disclosure;

/// <summary>
/// A number as it leaves the node, saying plainly how it was treated: Value is null when the true
/// count was below the threshold.
/// </summary>
public sealed record ReleasedCount(long? Value, bool Obfuscated, bool BelowThreshold, string Treatment)
{
    /// <summary>One phrase for the audit log and the patient report, e.g. "≈140 (noise, rounded to 10)".</summary>
    public string Summary => BelowThreshold ? $"below threshold ({Treatment})"
        : Obfuscated ? $"≈{Value} ({Treatment})"
        : $"{Value} (exact)";
}
