using Midia.Hosting;

namespace Midia.Node.Policy;

/// <summary>The kinds of request a site admin approves one by one (INTERFACE.md).</summary>
public static class QueryTypes
{
    public const string CohortCount = "cohort-count";
    public const string StratifiedCount = "stratified-count";
    public const string PatientSummary = "patient-summary";
    public const string PatientReport = "patient-report";

    public static readonly IReadOnlyList<string> All = [CohortCount, StratifiedCount, PatientSummary, PatientReport];

    public static bool IsKnown(string type) => All.Contains(type);

    /// <summary>A TYPE argument; anything else is a one-line error listing the types.</summary>
    public static string Parse(string type) =>
        IsKnown(type.Trim()) ? type.Trim() : throw new CommandException($"unknown query type '{type}': use one of {string.Join(", ", All)}");
}
