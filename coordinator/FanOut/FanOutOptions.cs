namespace Midia.Coordinator.FanOut;

/// <summary>How the coordinator asks the sites (configuration section "FanOut").</summary>
public sealed class FanOutOptions
{
    /// <summary>How long one site gets to answer, retries included. A few seconds, not minutes.</summary>
    public TimeSpan Deadline { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>At most this many site calls of one query run at once (large networks).</summary>
    public int MaxConcurrentSites { get; set; } = 32;
    /// <summary>Retries after UNAVAILABLE (connection refused, reset), only while the deadline allows.</summary>
    public int RetryAttempts { get; set; } = 2;
    /// <summary>First retry delay; doubles per attempt, with jitter.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);
    /// <summary>The circuit opens after this many failed calls in a row (within BreakerSamplingDuration).</summary>
    public int BreakerFailures { get; set; } = 3;
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>How long an open circuit answers "unavailable" at once before the next call probes the site.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);
}
