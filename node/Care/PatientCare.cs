using Midia.Node.Linkage;
using Midia.Node.Store;
using Midia.Node.Transparency;
using Midia.Protos.Node.V1;
using Midia.Rpc.Authorization;
using Midia.Rpc.Core;

namespace Midia.Node.Care;

/// <summary>
/// midia.node.v1.PatientCare: the cross-site patient summary (issue 6) and, through
/// PatientReports, the patient's transparency report (issue 7).
/// </summary>
public sealed class PatientCare(string site, SiteSessions sessions, LinkageKey linkage, PatientReports reports)
{
    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor => NodeReflection.Descriptor.Services.Single(s => s.Name == "PatientCare");

    [RequireRole("clinician")]
    public Task<ResolvePatientReply> ResolvePatient(ResolvePatientRequest request, ServerCallContext context) =>
        throw new RpcException(StatusCode.Unimplemented, $"{site}: ResolvePatient is not built yet ({sessions}, {linkage})");

    [RequireRole("coordinator")]
    public Task<OpenTicketReply> OpenTicket(OpenTicketRequest request, ServerCallContext context) =>
        throw new RpcException(StatusCode.Unimplemented, $"{site}: OpenTicket is not built yet");

    [RequireRole("coordinator")]
    public Task<PatientSummaryReply> PatientSummary(PatientSummaryRequest request, ServerCallContext context) =>
        throw new RpcException(StatusCode.Unimplemented, $"{site}: PatientSummary is not built yet");

    [RequireRole("coordinator")]
    public Task<PatientReportReply> PatientReport(PatientReportRequest request, ServerCallContext context) =>
        reports.Report(request, context);
}
