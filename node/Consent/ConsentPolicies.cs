using System.Text.RegularExpressions;
using Midia.Node.Store;
using Midia.Hosting;

namespace Midia.Node.Consent;

/// <summary>
/// The consent policies a site evaluates: the MII broad-consent codes (full OIDs) and the
/// network's own care-sharing code (DOMAIN.md), with the aliases the command line accepts.
/// </summary>
public static partial class ConsentPolicies
{
    public const string MiiRoot = "2.16.840.1.113883.3.1937.777.24.5.3";

    /// <summary>MII .8, MDAT scientific use: what research counts require.</summary>
    public const string Research = MiiRoot + ".8";

    /// <summary>The network's code for showing the record to clinicians at other sites.</summary>
    public const string CareSharing = "care-sharing";

    /// <summary>Shown by `consent show` even without any provision, since default deny is news too.</summary>
    public static readonly IReadOnlyList<string> Headline = [Research, CareSharing];

    static readonly Dictionary<string, string> MiiNames = new()
    {
        [MiiRoot + ".2"] = "IDAT collect",
        [MiiRoot + ".3"] = "IDAT store and process",
        [MiiRoot + ".5"] = "IDAT provide",
        [MiiRoot + ".6"] = "MDAT collect",
        [MiiRoot + ".7"] = "MDAT store and process",
        [MiiRoot + ".8"] = "MDAT scientific use (research)",
        [MiiRoot + ".9"] = "MDAT merge with third-party data",
        [MiiRoot + ".37"] = "re-contact on significant findings",
    };

    [GeneratedRegex(@"^2\.16\.840\.1\.113883\.3\.1937\.777\.24\.5\.3\.[1-9][0-9]{0,3}$")]
    private static partial Regex MiiCode();

    /// <summary>The policy code for a --policy value: a full MII code (optionally urn:oid:), `research` or `care-sharing`.</summary>
    public static string Resolve(string codeOrAlias)
    {
        if (TryResolve(codeOrAlias, out var policy)) return policy;
        throw new CommandException($"unknown consent policy '{codeOrAlias}': use a full MII code ({MiiRoot}.N), 'research' or 'care-sharing'");
    }

    public static bool TryResolve(string codeOrAlias, out string policy)
    {
        var text = codeOrAlias.Trim();
        if (text.StartsWith("urn:oid:", StringComparison.OrdinalIgnoreCase)) text = text["urn:oid:".Length..];
        policy = text.ToLowerInvariant() switch
        {
            "research" => Research,
            CareSharing => CareSharing,
            _ when MiiCode().IsMatch(text) => text,
            _ => "",
        };
        return policy.Length > 0;
    }

    /// <summary>A short name for people reading `consent show`.</summary>
    public static string Name(string policy) =>
        policy == CareSharing ? "care sharing with clinicians at other sites"
        : MiiNames.TryGetValue(policy, out var name) ? name
        : "MII policy " + policy[(policy.LastIndexOf('.') + 1)..];

    /// <summary>The FHIR code system a policy code belongs to.</summary>
    public static string SystemOf(string policy) => policy == CareSharing ? CodeSystems.MidiaConsentPolicy : CodeSystems.MiiConsentPolicy;
}
