using System.Reflection;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Midia.Trust;

namespace Midia.Testing;

/// <summary>
/// The authorization rules of one RPC judged for one caller without a server: the requirements its
/// attributes declare (its class's and its own, as grpc-dotnet puts them on the endpoint), decided by
/// the servers' own <see cref="NetworkAuthorizationHandler"/>. Null when allowed, else the refusal.
/// </summary>
public static class Rules
{
    public static async Task<string?> RefusalAsync(Type service, string method, PeerIdentity caller, string? serverSite = null)
    {
        var rpc = service.GetMethod(method, BindingFlags.Public | BindingFlags.Instance) ?? throw new ArgumentException($"{service.Name} has no method {method}");
        var requirements = service.GetCustomAttributes(true).Concat(rpc.GetCustomAttributes(true))
            .OfType<IAuthorizationRequirementData>().SelectMany(d => d.GetRequirements()).ToList();
        if (requirements.Count == 0) requirements.Add(new NoRuleRequirement());
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAuthorization();
        services.AddSingleton<IAuthorizationHandler, NetworkAuthorizationHandler>();
        services.AddSingleton(Options.Create(new NetworkServerOptions { Site = serverSite }));
        await using var provider = services.BuildServiceProvider();
        var result = await provider.GetRequiredService<IAuthorizationService>()
            .AuthorizeAsync(caller.ToPrincipal(NetworkAuthentication.Scheme), new DefaultHttpContext(), requirements);
        return result.Succeeded ? null : result.Failure?.FailureReasons.FirstOrDefault()?.Message ?? "refused";
    }
}
