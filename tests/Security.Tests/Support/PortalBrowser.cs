using System.Net;
using System.Text.RegularExpressions;

namespace Midia.Security.Tests.Support;

/// <summary>
/// A person at a `dev up` portal over real HTTPS: keeps the sign-in cookie and sends the
/// antiforgery token each form carries, as a browser does. Redirects are not followed.
/// </summary>
public sealed partial class PortalBrowser(Uri portal) : IDisposable
{
    readonly HttpClient http = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = true,
        CookieContainer = new CookieContainer(),
        UseProxy = false,
        // The dev CA signed the portal's certificate; trusted here as a demo user trusts it in the browser.
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    }) { BaseAddress = portal, Timeout = TimeSpan.FromSeconds(120) };

    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string path)
    {
        using var response = await http.GetAsync(path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Posts the form of <paramref name="page"/> back to it, with the token the page rendered.</summary>
    public async Task<(HttpStatusCode Status, string Body)> PostFormAsync(string page, params (string Name, string Value)[] fields)
    {
        var (status, form) = await GetAsync(page);
        Assert.True(status == HttpStatusCode.OK, $"GET {page}: {status}");
        var token = TokenField().Match(form);
        Assert.True(token.Success, $"{page} has no antiforgery token");
        var content = new FormUrlEncodedContent(fields.Select(f => KeyValuePair.Create(f.Name, f.Value))
            .Append(KeyValuePair.Create("__RequestVerificationToken", WebUtility.HtmlDecode(token.Groups[1].Value))));
        using var response = await http.PostAsync(page, content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Signs in with a demo account; the portal answers a good sign-in with a redirect.</summary>
    public async Task SignInAsync(string user, string password)
    {
        var (status, _) = await PostFormAsync("/SignIn", ("user", user), ("password", password));
        Assert.True(status == HttpStatusCode.Redirect, $"sign-in of {user} at {http.BaseAddress}: {status}");
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();

    public void Dispose() => http.Dispose();
}
