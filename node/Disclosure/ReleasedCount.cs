namespace Midia.Node.Disclosure;

/// <summary>
/// A number as it leaves the node, saying plainly how it was treated (the node contract's
/// ReleasedCount): Value is null when the true count was below the threshold.
/// </summary>
public sealed record ReleasedCount(long? Value, bool Obfuscated, bool BelowThreshold, string Treatment, long Threshold)
{
    /// <summary>One phrase for the audit log and the patient report, e.g. "≈140: discrete Laplace noise (epsilon 0.5), rounded to 10".</summary>
    public string Summary => BelowThreshold ? $"below threshold ({Treatment})"
        : Obfuscated ? $"≈{Value}: {Treatment}"
        : $"{Value} (exact)";
}
