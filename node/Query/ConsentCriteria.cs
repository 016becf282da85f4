using Midia.Node.Consent;
using Midia.Node.Store;

namespace Midia.Node.Query;

/// <summary>
/// The FDPG consent criterion (context Einwilligung): the combined codes of system
/// fdpg.consent.combined mapped to the MII policy codes they stand for, after the FDPG ontology's
/// consent mapping. A combined code is four answers, yes or no:
/// distributed analysis - EU GDPR level - health insurance data - re-contact.
/// docs/QUERY-SEMANTICS.md has the table and the choices made here.
/// </summary>
public static class ConsentCriteria
{
    public const string CombinedSystem = "fdpg.consent.combined";

    static string Mii(int suffix) => $"{ConsentPolicies.MiiRoot}.{suffix}";

    /// <summary>MDAT scientific use (.8), or MDAT provide outside the EU GDPR level (.49).</summary>
    static readonly string[] EuGdpr = [Mii(8)], NonEuGdpr = [Mii(49)];

    /// <summary>A central (not distributed) analysis merges the data with third parties (.9).</summary>
    static readonly string[] Central = [Mii(9)];

    /// <summary>Health insurance data retrospectively transferred, stored, used (.10).</summary>
    static readonly string[] InsuranceData = [Mii(10)];

    /// <summary>Re-contact: on significant findings (.37), supplements (.26), linking databases (.27),
    /// further collection (.28), further studies (.29), incidental findings (.30, .31).</summary>
    static readonly string[] Recontact = [Mii(37), Mii(26), Mii(27), Mii(28), Mii(29), Mii(30), Mii(31)];

    /// <summary>The policy codes that must all be permitted for a combined code such as yes-yes-no-no; null if it is not one.</summary>
    public static IReadOnlyList<string>? Combined(string code)
    {
        var answers = code.Trim().ToLowerInvariant().Split('-');
        if (answers.Length != 4 || answers.Any(a => a is not ("yes" or "no"))) return null;
        var policies = new List<string>();
        if (answers[0] == "no") policies.AddRange(Central);
        policies.AddRange(answers[1] == "yes" ? EuGdpr : NonEuGdpr);
        if (answers[2] == "yes") policies.AddRange(InsuranceData);
        if (answers[3] == "yes") policies.AddRange(Recontact);
        return [.. policies.Distinct().Order(StringComparer.Ordinal)];
    }

    /// <summary>The policies a consent term code stands for: a combined code, an MII policy code (full OID or
    /// its suffix) or the network's own policy code; null when the code is none of them.</summary>
    public static IReadOnlyList<string>? Policies(TermCode code) => code.System switch
    {
        CombinedSystem => Combined(code.Code),
        CodeSystems.MiiConsentPolicy => ConsentPolicies.TryResolve(code.Code.Contains('.') ? code.Code : $"{ConsentPolicies.MiiRoot}.{code.Code}", out var mii) ? [mii] : null,
        CodeSystems.MidiaConsentPolicy => code.Code == ConsentPolicies.CareSharing ? [ConsentPolicies.CareSharing] : null,
        _ => null,
    };

    public static bool IsConsentSystem(string system) => system is CombinedSystem or CodeSystems.MiiConsentPolicy or CodeSystems.MidiaConsentPolicy;
}
