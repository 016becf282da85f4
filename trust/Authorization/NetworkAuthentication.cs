using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication.Certificate;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Midia.Trust;

/// <summary>
/// Who a request comes from, the ASP.NET way: the client certificate (already checked in the TLS
/// handshake by <see cref="TlsMaterial.ValidatePeer"/>) is authenticated again by the certificate
/// handler against the network CA only — chain, dates, client-authentication use — and becomes a
/// principal with the name, role and site it names (<see cref="PeerIdentity.ToPrincipal"/>). A
/// portal's end-user metadata then makes the principal that person, with the portal as actor
/// (<see cref="Delegation"/>); a claim that is not allowed is kept as a <see cref="DelegationRefusal"/>
/// that every authorization rule refuses.
/// </summary>
public static partial class NetworkAuthentication
{
    public const string Scheme = CertificateAuthenticationDefaults.AuthenticationScheme;

    public static IServiceCollection AddNetworkAuthentication(this IServiceCollection services, TlsMaterial tls)
    {
        services.AddAuthentication(Scheme).AddCertificate(options =>
        {
            options.AllowedCertificateTypes = CertificateTypes.Chained;
            options.ChainTrustValidationMode = X509ChainTrustMode.CustomRootTrust;
            options.CustomTrustStore = [.. tls.Authorities];
            options.RevocationMode = X509RevocationMode.NoCheck;
            options.ValidateCertificateUse = true;
            options.ValidateValidityPeriod = true;
            options.Events = new CertificateAuthenticationEvents
            {
                OnCertificateValidated = context =>
                {
                    context.Principal = PeerIdentity.FromCertificate(context.ClientCertificate).ToPrincipal(Scheme);
                    context.Success();
                    return Task.CompletedTask;
                },
                OnAuthenticationFailed = context =>
                {
                    var logger = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(NetworkAuthentication));
                    Refused(logger, context.Exception.Message);
                    return Task.CompletedTask;
                },
            };
        })
        // A certificate is judged once, not on every call (chain building costs more than a call).
        .AddCertificateCache(cache =>
        {
            cache.CacheSize = 1024;
            cache.CacheEntryExpiration = TimeSpan.FromMinutes(2);
        });
        return services;
    }

    /// <summary>Turns a portal's call into its person's (or records why it may not be); runs between authentication and authorization.</summary>
    public static async Task ApplyDelegation(HttpContext context, RequestDelegate next, Delegation? delegation)
    {
        if (context.Request.Headers.TryGetValue(Delegation.Header, out var values) && PeerIdentity.FromPrincipal(context.User) is { } certificate)
        {
            string? refusal;
            PeerIdentity? person = null;
            if (delegation is null) refusal = $"this server honours no end-user metadata ({Delegation.Header})";
            else if (Bytes(values.ToString()) is not { } claim) refusal = $"{Delegation.Header} is not base64";
            else person = delegation.Resolve(certificate, claim, out refusal);
            if (person is not null) context.User = person.ToPrincipal(Scheme);
            else context.Features.Set(new DelegationRefusal(refusal ?? "end-user metadata refused"));
        }
        await next(context);
    }

    /// <summary>A -bin metadata value: base64, padded or not (the gRPC rule).</summary>
    static byte[]? Bytes(string base64)
    {
        var padded = (base64.Length % 4) switch { 2 => base64 + "==", 3 => base64 + "=", _ => base64 };
        try { return Convert.FromBase64String(padded); }
        catch (FormatException) { return null; }
    }

    [LoggerMessage(3, LogLevel.Warning, "Refused a client certificate: {Problem}")]
    static partial void Refused(ILogger logger, string problem);
}
