using System.Text.RegularExpressions;

namespace Midia.Node.Audit;

/// <summary>
/// Last line of defence for the audit: free text (reasons, error messages, user names) may quote
/// something it should not; anything shaped like a KVNR is masked before it is written.
/// </summary>
public static partial class AuditText
{
    [GeneratedRegex(@"(?<![A-Za-z0-9])[A-Z][0-9]{9}(?![A-Za-z0-9])")]
    private static partial Regex KvnrShape();

    public static string? Mask(string? text) => text is null ? null : KvnrShape().Replace(text, "[identifier removed]");
}

/// <summary>Who the audit names for an end user the coordinator asserts: the person, and the portal they came through.</summary>
public static class EndUserAudit
{
    public static string AuditName(this Midia.Protos.Node.V1.EndUser user) => user.Via.Length == 0 ? user.Name : $"{user.Name} via {user.Via}";
}
