using Midia.Node.Store;
using Midia.Protos.Node.V1;
using Midia.Rpc.Core;

namespace Midia.Node.Transparency;

/// <summary>The site's part of a patient's transparency report: consent, accesses, research use (issue 7).</summary>
public sealed class PatientReports(string site, SiteSessions sessions)
{
    public Task<PatientReportReply> Report(PatientReportRequest request, ServerCallContext context) =>
        throw new RpcException(StatusCode.Unimplemented, $"{site}: PatientReport is not built yet ({sessions})");
}
