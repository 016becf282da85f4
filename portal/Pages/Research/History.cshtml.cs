using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Midia.Portal.Network;
using Midia.Portal.Text;
using Midia.Protos.Coordinator.V1;
using Grpc.Core;

namespace Midia.Portal.Pages.Research;

/// <summary>The researcher's own quota and query history, as the coordinator keeps them (released numbers only).</summary>
[Authorize(Roles = "researcher")]
public sealed class HistoryModel(PortalNetwork network, Words words) : PageModel
{
    public QuotaReply? Quota { get; private set; }
    public HistoryReply? History { get; private set; }
    public string? Problem { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        try
        {
            Quota = await network.Research.QuotaAsync(new(), PortalNetwork.For(User, cancellationToken)).ResponseAsync;
            History = await network.Research.HistoryAsync(new() { Limit = 50 }, PortalNetwork.For(User, cancellationToken)).ResponseAsync;
        }
        catch (RpcException e) { Problem = PortalNetwork.Explain(e, words["the coordinator"]); }
    }

    public static string When(long unixMs) => unixMs == 0 ? "–" : DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture);
}
