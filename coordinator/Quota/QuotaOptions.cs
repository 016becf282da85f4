namespace Midia.Coordinator.Quota;

/// <summary>
/// Per-researcher query quotas (configuration section "Quota"). Defaults are the MII feasibility
/// portal's: 3 queries per minute, 50 per 7 days. Replays of an identical recent query cost nothing.
/// </summary>
public sealed class QuotaOptions
{
    public int PerMinute { get; set; } = 3;
    public int Per7Days { get; set; } = 50;
    /// <summary>Identical queries by the same researcher within this window are answered from the stored result.</summary>
    public TimeSpan IdenticalQueryWindow { get; set; } = TimeSpan.FromHours(24);
}
