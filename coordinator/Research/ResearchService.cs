using Microsoft.Extensions.Options;
using Midia.Coordinator.Consent;
using Midia.Coordinator.FanOut;
using Midia.Coordinator.History;
using Midia.Coordinator.Projects;
using Midia.Coordinator.Quota;
using Midia.Coordinator.Sites;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Midia.Trust;
using Grpc.Core;

namespace Midia.Coordinator.Research;

/// <summary>
/// midia.coordinator.v1.Research: federated counts for researchers. Count checks the request,
/// replays an identical recent query from history, takes a quota slot, fans out and streams each
/// site's result as it arrives, then the total. Only the researcher role may count.
/// </summary>
public sealed class ResearchService(SiteRegistry registry, SiteFanOut fanOut, QueryHistory history, ResearcherQuota quota, IOptions<QuotaOptions> quotaOptions,
    IOptions<ResearchOptions> research, ConsentDistributor consent, ProjectRegistry projects, TimeProvider time)
    : Protos.Coordinator.V1.Research.ResearchBase
{
    [RequireRole("researcher")]
    public override async Task Count(CountRequest request, IServerStreamWriter<CountEvent> responseStream, ServerCallContext context)
    {
        var query = CountQuery.From(request);
        var researcher = context.Caller().Name;
        if (query.Project.Length > 0 && !projects.IsRegistered(query.Project))
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"project {query.Project} is not registered: midia project register --id {query.Project} --title T --question Q --institution I"));

        if (history.FindReplayable(researcher, query.Hash, time.GetUtcNow() - quotaOptions.Value.IdenticalQueryWindow) is { } stored)
        {
            history.RecordReplay(stored.QueryId);
            await Replay(stored, responseStream).ConfigureAwait(false);
            return;
        }

        var queryId = Guid.CreateVersion7().ToString("N");
        var askedAt = DateTimeOffset.MinValue;
        quota.Admit(researcher, now =>
        {
            history.Begin(queryId, researcher, query, now);
            askedAt = now;
        });

        var sites = fanOut.Connections.Select(c => c.Site.Id).ToList();
        await responseStream.WriteAsync(new CountEvent
        {
            Started = new CountStarted { QueryId = queryId, Sites = { sites }, QueryHash = query.Hash, AskedAtUnixMs = askedAt.ToUnixTimeMilliseconds(), QueryType = query.QueryType },
        }).ConfigureAwait(false);

        var user = new EndUser { Name = researcher, Role = context.Caller().Role, Project = query.Project, Site = context.Caller().Site ?? "", Via = context.Caller().Via?.Name ?? "" };
        var answers = query.StratifyBy.Count == 0
            ? fanOut.CohortCountAsync(user, queryId, query.CcdlJson, context.CancellationToken)
            : fanOut.StratifiedCountAsync(user, queryId, query.CcdlJson, query.StratifyBy, context.CancellationToken);
        var results = new List<SiteResult>();
        await foreach (var result in answers.ConfigureAwait(false))
        {
            results.Add(result);
            await responseStream.WriteAsync(new CountEvent { Site = result }).ConfigureAwait(false);
        }

        var total = CountAggregation.Total(results, research.Value.MinTotal, stratified: query.StratifyBy.Count > 0);
        history.Complete(queryId, results, total);
        await responseStream.WriteAsync(new CountEvent { Total = total }).ConfigureAwait(false);
    }

    static async Task Replay(HistoryEntry stored, IServerStreamWriter<CountEvent> responseStream)
    {
        await responseStream.WriteAsync(new CountEvent
        {
            Started = new CountStarted
            {
                QueryId = stored.QueryId, Sites = { stored.Sites.Select(s => s.Site) }, QueryHash = stored.QueryHash,
                FromHistory = true, AskedAtUnixMs = stored.AskedAtUnixMs, QueryType = stored.QueryType,
            },
        }).ConfigureAwait(false);
        foreach (var site in stored.Sites) await responseStream.WriteAsync(new CountEvent { Site = site }).ConfigureAwait(false);
        await responseStream.WriteAsync(new CountEvent { Total = stored.Total }).ConfigureAwait(false);
    }

    /// <summary>Every user role may see the network's sites and their health; nodes have no use for it.</summary>
    [RequireRole("researcher", "clinician", "site-admin", "coordinator")]
    public override Task<SitesReply> Sites(SitesRequest request, ServerCallContext context)
    {
        var reply = new SitesReply { RegistryFile = registry.Path, RegistryLoadedUnixMs = registry.LoadedAt.ToUnixTimeMilliseconds() };
        reply.Sites.AddRange(fanOut.Connections.Select(c => c.Info()));
        foreach (var site in reply.Sites) site.AppliedConsentSequence = consent.AppliedSequence(site.Id);
        return Task.FromResult(reply);
    }

    [RequireRole("researcher")]
    public override Task<QuotaReply> Quota(QuotaRequest request, ServerCallContext context) =>
        Task.FromResult(quota.Describe(context.Caller().Name));

    [RequireRole("researcher")]
    public override Task<HistoryReply> History(HistoryRequest request, ServerCallContext context)
    {
        var limit = request.Limit is > 0 and <= 1000 ? request.Limit : 50;
        return Task.FromResult(new HistoryReply { Entries = { history.Recent(context.Caller().Name, limit) } });
    }
}

/// <summary>Research:MinTotal — totals below this are not shown (MII feasibility portal: 3).</summary>
public sealed class ResearchOptions
{
    public long MinTotal { get; set; } = CountAggregation.DefaultMinTotal;
}
