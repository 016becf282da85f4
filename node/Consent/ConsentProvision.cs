namespace Midia.Node.Consent;

/// <summary>Where a provision comes from, which decides how it combines with the others.</summary>
public enum ConsentOrigin
{
    /// <summary>The site's own Consent documents: merged by the MII rule.</summary>
    Document,
    /// <summary>A network change from the coordinator's log, ordered by its sequence number.</summary>
    Network,
    /// <summary>A `consent set` made here, not yet back from the coordinator: after every network change.</summary>
    Pending,
}

/// <summary>
/// One permit or deny of one policy for one period (Days, inclusive; null = open).
/// Order ranks network and pending changes: the later one wins.
/// </summary>
public sealed record ConsentProvision(string Policy, bool Permit, int? Start, int? End, ConsentOrigin Origin, long Order, string Source)
{
    public bool Covers(long day) => (Start is null || Start <= day) && (End is null || day <= End);

    /// <summary>Network changes rank by seq; pending ones after all of them, by their outbox id.</summary>
    public (int Tier, long Order) Rank => (Origin == ConsentOrigin.Pending ? 1 : 0, Order);
}

/// <summary>
/// The evaluation rule at one day: the latest network (or pending) change that covers the day
/// decides; otherwise the site's documents by the MII rule — some permit covers the day and no
/// deny does. No provision means no.
/// </summary>
public static class ConsentRule
{
    public static bool IsPermitted(IEnumerable<ConsentProvision> provisions, long day) => Decide(provisions, day).Permitted;

    /// <summary>The decision at a day and the provisions that made it (empty: nothing covers the day).</summary>
    public static (bool Permitted, IReadOnlyList<ConsentProvision> Because) Decide(IEnumerable<ConsentProvision> provisions, long day)
    {
        ConsentProvision? latest = null;
        List<ConsentProvision> permits = [], denies = [];
        foreach (var p in provisions)
        {
            if (!p.Covers(day)) continue;
            if (p.Origin == ConsentOrigin.Document) (p.Permit ? permits : denies).Add(p);
            else if (latest is null || p.Rank.CompareTo(latest.Rank) > 0) latest = p;
        }
        if (latest is not null) return (latest.Permit, [latest]);
        if (denies.Count > 0) return (false, denies);
        return (permits.Count > 0, permits);
    }
}
