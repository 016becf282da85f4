using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Midia.Protos.Coordinator.V1;
using Grpc.Core;

namespace Midia.Coordinator.Research;

/// <summary>
/// A researcher's count request, checked and identified: the CCDL JSON minified, checked once with
/// the nodes' own parser before any site is asked (the coordinator evaluates nothing — the nodes do),
/// and a hash that makes identical questions recognisable.
/// </summary>
public sealed record CountQuery(string CcdlJson, string Project, IReadOnlyList<string> StratifyBy, string Hash)
{
    public static readonly IReadOnlyList<string> Strata = ["sex", "age-band", "year"];

    public string QueryType => StratifyBy.Count == 0 ? "cohort-count" : "stratified-count";

    /// <summary>INVALID_ARGUMENT for input no site could evaluate (not JSON, a query the node's parser refuses,
    /// unknown stratum): refused before fan-out, so it costs no quota and reaches no node.</summary>
    public static CountQuery From(CountRequest request)
    {
        string minified;
        try
        {
            using var document = JsonDocument.Parse(request.CcdlJson);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new RpcException(new Status(StatusCode.InvalidArgument, "query: $: a CCDL structured query is a JSON object"));
            minified = JsonSerializer.Serialize(document.RootElement);
        }
        catch (JsonException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"query:{e.LineNumber + 1}:{e.BytePositionInLine + 1}: not valid JSON"));
        }
        try { Midia.Node.Query.CohortQuery.Parse(request.CcdlJson); }
        catch (Midia.Node.Query.CcdlException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"query: {e.JsonPath}: {e.Reason}"));
        }
        var strata = new List<string>();
        foreach (var raw in request.StratifyBy)
        {
            var stratum = raw.Trim();
            if (!Strata.Contains(stratum))
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"stratify: '{stratum}' is not a stratum; use {string.Join(", ", Strata)}"));
            if (strata.Contains(stratum)) throw new RpcException(new Status(StatusCode.InvalidArgument, $"stratify: '{stratum}' is named twice"));
            strata.Add(stratum);
        }
        var project = request.Project.Trim();
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{minified}\n{project}\n{string.Join(",", strata)}")));
        return new CountQuery(minified, project, strata, hash);
    }
}
