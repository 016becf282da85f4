using System.Net;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Midia.Portal.Accounts;
using Midia.Portal.Network;
using Midia.Portal.Text;
using Midia.Trust;

namespace Midia.Portal.Serve;

/// <summary>What one site's portal needs: where to listen, who it is, whom it calls, whose accounts.</summary>
public sealed record PortalSettings(IPEndPoint Listen, TlsMaterial Tls, Uri Coordinator, Uri Node, string AccountsFile, string Site);

/// <summary>
/// The portal as `serve` runs it and tests start it: Razor Pages over HTTPS (the portal's own
/// certificate), browsers may present a client certificate (the health-professional card),
/// cookie sign-in, every page behind a role check.
/// </summary>
public sealed class PortalServer : IAsyncDisposable
{
    readonly WebApplication app;

    PortalServer(WebApplication app, Uri address)
    {
        this.app = app;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<PortalServer> StartAsync(PortalSettings settings, ILoggerFactory? loggers = null, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(PortalServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
            EnvironmentName = Environments.Production,
        });
        builder.Logging.ClearProviders();
        if (loggers is not null)
        {
            // Warnings and errors only: request lines could carry what a person typed.
            builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
        }
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(settings.Listen, listen => listen.UseHttps(https =>
            {
                https.ServerCertificate = settings.Tls.Certificate;
                // A browser may present a certificate; the sign-in page checks it against the
                // network CA (TlsMaterial.ValidatePeer), so the handshake itself accepts any.
                https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                https.AllowAnyClientCertificate();
            }));
        });

        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton(new AccountStore(settings.AccountsFile));
        services.AddSingleton(new PortalNetwork(settings.Coordinator, settings.Node, settings.Tls, settings.Site));
        services.AddScoped(provider => Words.For(provider.GetRequiredService<IHttpContextAccessor>().HttpContext!));
        services.AddHttpContextAccessor();
        // Sign-in cookies live as long as this process: nothing about a session is written to disk.
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(cookie =>
        {
            cookie.LoginPath = "/SignIn";
            cookie.AccessDeniedPath = "/Denied";
            cookie.Cookie.Name = "midia-portal";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.ExpireTimeSpan = TimeSpan.FromMinutes(30);
            cookie.SlidingExpiration = true;
        });
        // Every page needs a signed-in person unless it says [AllowAnonymous]; each area adds its role.
        services.AddAuthorizationBuilder().SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        services.AddAntiforgery(options =>
        {
            options.HeaderName = "RequestVerificationToken";
            options.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            options.Cookie.SameSite = SameSiteMode.Strict;
        });
        services.AddRazorPages().AddApplicationPart(typeof(PortalServer).Assembly);

        var app = builder.Build();
        app.Use(async (http, next) =>
        {
            var headers = http.Response.Headers;
            headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; form-action 'self'";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.StrictTransportSecurity = "max-age=31536000";
            await next(http);
        });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(Path.Combine(AppContext.BaseDirectory, "wwwroot")) });
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapRazorPages();
        await app.StartAsync(cancellationToken);
        var bound = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(bound.Replace("[::]", "localhost", StringComparison.Ordinal)).Port;
        var host = settings.Listen.Address.Equals(IPAddress.Any) || settings.Listen.Address.Equals(IPAddress.IPv6Any) ? "localhost"
            : settings.Listen.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{settings.Listen.Address}]" : settings.Listen.Address.ToString();
        return new PortalServer(app, new Uri($"https://{host}:{port}"));
    }

    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        app.Services.GetRequiredService<PortalNetwork>().Dispose();
        await app.DisposeAsync();
    }
}
