using System.Net;
using Midia.Portal.Tests.Support;

namespace Midia.Portal.Tests;

/// <summary>Every page checks the role on the server, over real HTTPS against a real portal.</summary>
public sealed class PageRoleTests : IAsyncLifetime
{
    readonly PortalTestNetwork network = new("erlangen");
    Uri portal = null!;

    public async Task InitializeAsync()
    {
        await network.StartAsync();
        portal = (await network["erlangen"].StartPortalAsync(("ada", "researcher", null), ("root", "site-admin", null), ("doc", "clinician", null), ("pat", "patient", "A123456780"))).Address;
    }

    public async Task DisposeAsync() => await network.DisposeAsync();

    [Theory]
    [InlineData("/Research")]
    [InlineData("/Admin")]
    public async Task Anonymous_visitors_are_sent_to_sign_in(string page)
    {
        using var browser = new Browser(portal);
        var (status, _, location) = await browser.GetPageAsync(page);
        Assert.Equal(HttpStatusCode.Redirect, status);
        Assert.StartsWith($"{portal.ToString().TrimEnd('/')}/SignIn?ReturnUrl=", location);
    }

    [Theory]
    [InlineData("ada", "/Research", "/Admin")]
    [InlineData("root", "/Admin", "/Research")]
    [InlineData("doc", "/Care", "/Admin")]
    [InlineData("pat", "/Patient", "/Research")]
    public async Task Each_role_lands_on_its_view_and_is_denied_the_others(string user, string home, string forbidden)
    {
        using var browser = new Browser(portal);
        Assert.Equal(home, await browser.SignInAsync(user));
        var (status, _, location) = await browser.GetPageAsync(forbidden);
        Assert.Equal(HttpStatusCode.Redirect, status);
        Assert.Contains("/Denied", location);
        (status, _, _) = await browser.GetPageAsync("/Denied");
        Assert.Equal(HttpStatusCode.Forbidden, status);
    }

    [Fact]
    public async Task A_wrong_password_does_not_sign_in()
    {
        using var browser = new Browser(portal);
        var (status, body, _) = await browser.PostFormAsync("/SignIn", "/SignIn", [new("user", "ada"), new("password", "wrong password")]);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("User name or password is wrong.", Browser.Text(body));
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetPageAsync("/Research")).Status);
    }

    [Fact]
    public async Task A_form_without_the_antiforgery_token_is_refused()
    {
        using var browser = new Browser(portal);
        using var response = await browser.GetAsync("/SignIn");
        using var http = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } }) { BaseAddress = portal };
        using var post = await http.PostAsync("/SignIn", new FormUrlEncodedContent([new("user", "ada"), new("password", PortalTestNetwork.Password)]));
        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
    }

    [Fact]
    public async Task Certificate_sign_in_reads_role_and_site_from_a_network_certificate()
    {
        using (var browser = new Browser(portal, network.Certificate("site-admin", "Admin Eva", "erlangen")))
        {
            var (status, _, location) = await browser.PostFormAsync("/SignIn", "/SignIn?handler=Certificate", []);
            Assert.Equal((HttpStatusCode.Redirect, "/Admin"), (status, location));
        }
        using (var other = new Browser(portal, network.Certificate("site-admin", "Admin Max", "munich")))
        {
            var (status, body, _) = await other.PostFormAsync("/SignIn", "/SignIn?handler=Certificate", []);
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Contains("for site munich", Browser.Text(body));
        }
        using var foreignCa = Midia.CertsDev.DevCertificates.CreateAuthority("Another CA");
        using (var foreign = new Browser(portal, network.Certificate("researcher", "Dr Foreign", null, foreignCa)))
        {
            var (status, body, _) = await foreign.PostFormAsync("/SignIn", "/SignIn?handler=Certificate", []);
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Contains("not accepted", Browser.Text(body));
        }
    }

    [Fact]
    public async Task German_by_default_and_the_language_switch_sticks()
    {
        using var browser = new Browser(portal, language: "de-DE,de;q=0.9");
        Assert.Contains("Benutzername", Browser.Text((await browser.GetPageAsync("/SignIn")).Body));
        await browser.PostFormAsync("/SignIn", "/Language", [new("language", "en"), new("returnUrl", "/SignIn")]);
        var page = (await browser.GetPageAsync("/SignIn")).Body;
        Assert.Contains("User name", Browser.Text(page));
        Assert.Contains("<html lang=\"en\">", page);
    }

    [Fact]
    public async Task The_researcher_view_speaks_german_to_a_german_browser()
    {
        using var browser = new Browser(portal, language: "de");
        await browser.SignInAsync("ada");
        var page = Browser.Text((await browser.GetPageAsync("/Research")).Body);
        Assert.Contains("Kohorten-Baukasten", page);
        Assert.Contains("Im Netzwerk zählen", page);
        Assert.DoesNotContain("Count across the network", page);
    }
}
