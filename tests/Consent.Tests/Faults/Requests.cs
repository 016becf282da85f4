using Grpc.Core;
using Midia.Consent.Tests.Support;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using CareClient = Midia.Protos.Coordinator.V1.Care.CareClient;
using PatientCareClient = Midia.Protos.Node.V1.PatientCare.PatientCareClient;
using ResearchClient = Midia.Protos.Coordinator.V1.Research.ResearchClient;

namespace Midia.Consent.Tests.Faults;

/// <summary>A researcher's federated count as the stream delivers it: the query id and each site's result.</summary>
public sealed record CountOutcome(string QueryId, IReadOnlyDictionary<string, SiteResult> Sites, CountTotal? Total);

/// <summary>
/// The two requests every fault scenario sends, as the `midia` tool sends them: a federated count
/// (researcher → coordinator) and a clinician's summary (resolve at the own site's node, then the
/// coordinator). Generous client deadlines: a hang fails the test with DEADLINE_EXCEEDED instead of hanging it.
/// </summary>
public static class Requests
{
    public static CallOptions Options() => new(deadline: DateTime.UtcNow.AddSeconds(90));

    /// <summary>Women with breast cancer (C50) diagnosed after a day unique to <paramref name="n"/>, so the coordinator's history never replays it.</summary>
    public static string BreastCancerQuery(int n) =>
        """{"version": "2", "display": "fault workload @N", "inclusionCriteria": [[{"termCodes": [{"system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "code": "C50"}], "timeRestriction": {"afterDate": "@D"}}]]}"""
            .Replace("@N", n.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Replace("@D", new DateOnly(1990, 1, 1).AddDays(n).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));

    public static async Task<CountOutcome> CountAsync(CallInvoker researcher, string ccdl)
    {
        using var call = new ResearchClient(researcher).Count(new CountRequest { CcdlJson = ccdl }, Options());
        var queryId = "";
        var sites = new Dictionary<string, SiteResult>();
        CountTotal? total = null;
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            var e = call.ResponseStream.Current;
            switch (e.EventCase)
            {
                case CountEvent.EventOneofCase.Started: queryId = e.Started.QueryId; break;
                case CountEvent.EventOneofCase.Site: sites[e.Site.Site] = e.Site; break;
                case CountEvent.EventOneofCase.Total: total = e.Total; break;
            }
        }
        return new CountOutcome(queryId, sites, total);
    }

    public static async Task<SummaryReply> SummaryAsync(CallInvoker clinicianAtNode, CallInvoker clinicianAtCoordinator, string site, string localId)
    {
        var ticket = (await ResolveAsync(clinicianAtNode, localId)).Ticket;
        return await SummaryAsync(clinicianAtCoordinator, new SummaryRequest { Site = site, Ticket = ticket });
    }

    /// <summary>The clinician's first step at the own site's node: a ticket for the patient.</summary>
    public static async Task<ResolvePatientReply> ResolveAsync(CallInvoker clinicianAtNode, string localId) =>
        await new PatientCareClient(clinicianAtNode).ResolvePatientAsync(new ResolvePatientRequest { LocalId = localId }, Options());

    /// <summary>The clinician's second step: the summary from the coordinator for a ticket.</summary>
    public static async Task<SummaryReply> SummaryAsync(CallInvoker clinicianAtCoordinator, SummaryRequest request) =>
        await new CareClient(clinicianAtCoordinator).SummaryAsync(request, Options());

    /// <summary>Audit rows of a site per request id (the coordinator's query or summary request id): "outcome" each.</summary>
    public static Dictionary<string, List<string>> AuditByRequest(TestNode node) =>
        node.Rows("SELECT request_id, outcome FROM audit WHERE request_id IS NOT NULL ORDER BY id")
            .Select(r => r.Split('|'))
            .GroupBy(r => r[0], r => r[1])
            .ToDictionary(g => g.Key, g => g.ToList());
}
