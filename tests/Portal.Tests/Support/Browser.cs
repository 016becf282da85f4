using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace Midia.Portal.Tests.Support;

/// <summary>
/// What a browser does with the portal, over real HTTPS: keeps cookies, sends the antiforgery
/// token a form carries, optionally presents a client certificate. Redirects are not followed,
/// so tests see where the portal sends the person.
/// </summary>
public sealed partial class Browser : IDisposable
{
    readonly HttpClient http;

    public Browser(Uri portal, X509Certificate2? clientCertificate = null, string language = "en")
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            CookieContainer = Cookies,
            UseCookies = true,
            // The test CA signed the portal's certificate; the tests trust it like the dev CA is trusted in dev up.
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        };
        if (clientCertificate is not null)
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        http = new HttpClient(handler) { BaseAddress = portal, Timeout = TimeSpan.FromSeconds(120) };
        http.DefaultRequestHeaders.AcceptLanguage.ParseAdd(language);
    }

    public CookieContainer Cookies { get; } = new();

    public Task<HttpResponseMessage> GetAsync(string path) => http.GetAsync(path);

    public async Task<(HttpStatusCode Status, string Body, string? Location)> GetPageAsync(string path)
    {
        using var response = await http.GetAsync(path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.Location?.OriginalString);
    }

    /// <summary>Submits a form the way the page at <paramref name="formPage"/> renders it: with its antiforgery token.</summary>
    public async Task<(HttpStatusCode Status, string Body, string? Location)> PostFormAsync(string formPage, string action, IEnumerable<KeyValuePair<string, string>> fields)
    {
        var token = await TokenAsync(formPage);
        var all = fields.Append(new("__RequestVerificationToken", token));
        using var response = await http.PostAsync(action, new FormUrlEncodedContent(all));
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.Location?.OriginalString);
    }

    public async Task<HttpResponseMessage> PostWithTokenHeaderAsync(string formPage, string action, HttpContent content)
    {
        var token = await TokenAsync(formPage);
        var request = new HttpRequestMessage(HttpMethod.Post, action) { Content = content };
        request.Headers.Add("RequestVerificationToken", token);
        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    public async Task<string> TokenAsync(string formPage)
    {
        var (status, body, _) = await GetPageAsync(formPage);
        Assert.True(status == HttpStatusCode.OK, $"GET {formPage}: {status}");
        var match = TokenField().Match(body);
        Assert.True(match.Success, $"{formPage} has no antiforgery token");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    /// <summary>Signs in with a local account; returns where the portal sent the person.</summary>
    public async Task<string?> SignInAsync(string user, string password = PortalTestNetwork.Password)
    {
        var (status, body, location) = await PostFormAsync("/SignIn", "/SignIn", [new("user", user), new("password", password)]);
        Assert.True(status == HttpStatusCode.Redirect, $"sign-in of {user}: {status} {Text(body)}");
        return location;
    }

    /// <summary>Visible text, roughly: tags removed, whitespace collapsed.</summary>
    public static string Text(string html) => Regex.Replace(WebUtility.HtmlDecode(Regex.Replace(html, "<[^>]+>", " ")), @"\s+", " ").Trim();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();

    public void Dispose() => http.Dispose();
}
