namespace Midia.Protos.Coordinator.V1;

/// <summary>
/// The word every output uses for a site's status (JSON, terminal, history, logs, portal): the
/// proto name without its prefix, as INTERFACE.md shows it. One table, so the outputs never drift.
/// </summary>
public static class SiteStatusWords
{
    public static string Word(this SiteStatus status) => status switch
    {
        SiteStatus.Ok => "ok",
        SiteStatus.Timeout => "timeout",
        SiteStatus.Unavailable => "unavailable",
        SiteStatus.NotApproved => "not_approved",
        SiteStatus.Refused => "refused",
        SiteStatus.NotShared => "not_shared",
        _ => "error",
    };
}
