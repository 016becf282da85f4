using Midia.Coordinator.FanOut;
using Midia.Coordinator.Sites;
using Midia.Protos.Coordinator.V1;
using Midia.Rpc.Authorization;
using Midia.Rpc.Core;

namespace Midia.Coordinator.Care;

/// <summary>
/// midia.coordinator.v1.Care: the clinician's cross-site patient summary (issue 6) and the
/// patient's transparency report (issue 7). Sees only tickets and linkage pseudonyms.
/// </summary>
public sealed class CareService(SiteRegistry registry, SiteFanOut fanOut, TimeProvider time)
{
    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor => CoordinatorReflection.Descriptor.Services.Single(s => s.Name == "Care");

    [RequireRole("clinician")]
    public Task<SummaryReply> Summary(SummaryRequest request, ServerCallContext context) =>
        throw new RpcException(StatusCode.Unimplemented, $"Summary is not built yet ({registry}, {fanOut}, {time})");

    [RequireRole("node", "clinician")]
    public Task<PatientReportReply> PatientReport(PatientReportRequest request, ServerCallContext context) =>
        throw new RpcException(StatusCode.Unimplemented, "PatientReport is not built yet");
}
