using System.Net;
using System.Text.Json;
using Midia.Portal.Tests.Support;

namespace Midia.Portal.Tests;

/// <summary>The researcher's count page against a real coordinator and real nodes.</summary>
public sealed class ResearchTests : IAsyncLifetime
{
    readonly PortalTestNetwork network = new("erlangen", "munich");
    Uri portal = null!;

    public async Task InitializeAsync()
    {
        // Independent truth: erlangen holds 3 women and 2 men, munich 5 women; both release exact counts.
        network["erlangen"].Import(("e1", "female", new(1960, 1, 1)), ("e2", "female", new(1970, 1, 1)), ("e3", "female", new(1980, 1, 1)),
            ("e4", "male", new(1960, 1, 1)), ("e5", "male", new(1990, 1, 1)));
        network["munich"].Import(Enumerable.Range(1, 5).Select(i => ($"m{i}", "female", new DateOnly(1950 + i, 1, 1))).ToArray());
        foreach (var site in network.Nodes)
        {
            site.ApproveExact("cohort-count");
            site.ApproveExact("stratified-count");
        }
        await network.StartAsync();
        portal = (await network["erlangen"].StartPortalAsync(("ada", "researcher", null), ("doc", "clinician", null))).Address;
    }

    public async Task DisposeAsync() => await network.DisposeAsync();

    [Fact]
    public async Task The_count_page_shows_each_sites_result_and_the_total()
    {
        using var browser = new Browser(portal);
        Assert.Equal("/Research", await browser.SignInAsync("ada"));
        var (status, body, _) = await browser.PostFormAsync("/Research", "/Research?handler=Run", [new("Ccdl", Queries.Women)]);
        Assert.Equal(HttpStatusCode.OK, status);
        var text = Browser.Text(body);
        Assert.Contains("erlangen ok 3 exact", text);
        Assert.Contains("munich ok 5 exact", text);
        Assert.Contains("Total: 8", text);

        // The coordinator passed on who asked and through which portal: munich's audit names both.
        using var connection = Midia.Node.Store.SiteDatabase.Open(network["munich"].DbPath);
        var entry = new Midia.Node.Audit.AuditLog(connection).Read().Last();
        Assert.Equal(("ada via portal-erlangen", "researcher", "answered"), (entry.UserName, entry.UserRole, entry.Outcome));
    }

    [Fact]
    public async Task The_stream_pushes_started_then_every_site_then_the_total()
    {
        using var browser = new Browser(portal);
        await browser.SignInAsync("ada");
        using var response = await browser.PostWithTokenHeaderAsync("/Research", "/Research?handler=Stream",
            new FormUrlEncodedContent([new("Ccdl", Queries.Women), new("StratifyBy", "sex")]));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        Assert.Equal("started", events[0].GetProperty("kind").GetString());
        Assert.Equal("total", events[^1].GetProperty("kind").GetString());
        var sites = events.Where(e => e.GetProperty("kind").GetString() == "site").ToDictionary(e => e.GetProperty("site").GetString()!);
        Assert.Equal(["erlangen", "munich"], sites.Keys.Order());
        string Strata(JsonElement site) => string.Join(";", site.GetProperty("strata").EnumerateArray()
            .Select(s => $"{s.GetProperty("key").GetString()}={s.GetProperty("count").GetProperty("value")}").Order());
        Assert.Equal("sex female=3", Strata(sites["erlangen"]));   // the count is of women only, so one stratum
        Assert.Equal("sex female=5", Strata(sites["munich"]));
        Assert.Equal(8, events[^1].GetProperty("strata").EnumerateArray().Single().GetProperty("value").GetInt64());
    }

    [Fact]
    public async Task Bad_queries_are_refused_with_what_is_wrong_and_other_roles_cannot_count()
    {
        using var browser = new Browser(portal);
        await browser.SignInAsync("ada");
        var (status, body, _) = await browser.PostFormAsync("/Research", "/Research?handler=Run", [new("Ccdl", "{not json")]);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("not valid JSON", Browser.Text(body));

        using var clinician = new Browser(portal);
        await clinician.SignInAsync("doc");
        using var stream = await clinician.PostWithTokenHeaderAsync("/SignIn", "/Research?handler=Stream", new FormUrlEncodedContent([new("Ccdl", Queries.Women)]));
        Assert.Equal(HttpStatusCode.Redirect, stream.StatusCode);
        Assert.Contains("/Denied", stream.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task A_project_registered_in_the_portal_is_counted_for_and_shows_in_history_and_quota()
    {
        using var browser = new Browser(portal);
        await browser.SignInAsync("ada");
        var (status, body, _) = await browser.PostFormAsync("/Research", "/Research?handler=Run", [new("Ccdl", Queries.Women), new("Project", "women-study")]);
        Assert.Equal(HttpStatusCode.BadRequest, status);   // not registered yet: the coordinator says so
        Assert.Contains("women-study", Browser.Text(body));

        var (registered, _, _) = await browser.PostFormAsync("/Research/Projects", "/Research/Projects?handler=Register",
            [new("id", "women-study"), new("title", "Women in the network"), new("question", "How many women?"), new("institution", "Test University")]);
        Assert.Equal(HttpStatusCode.Redirect, registered);
        var projects = Browser.Text((await browser.GetPageAsync("/Research/Projects")).Body);
        Assert.Contains("women-study Women in the network How many women? Test University ada", projects);

        (status, body, _) = await browser.PostFormAsync("/Research", "/Research?handler=Run", [new("Ccdl", Queries.Women), new("Project", "women-study")]);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("Total: 8", Browser.Text(body));

        var (published, _, _) = await browser.PostFormAsync("/Research/Projects", "/Research/Projects?handler=Publish", [new("id", "women-study"), new("result", "Eight women.")]);
        Assert.Equal(HttpStatusCode.Redirect, published);
        Assert.Contains("Eight women.", Browser.Text((await browser.GetPageAsync("/Research/Projects")).Body));

        var history = Browser.Text((await browser.GetPageAsync("/Research/History")).Body);
        Assert.Matches("cohort-count women-study (erlangen: ok, munich: ok|munich: ok, erlangen: ok) 8 ", history);   // sites in order of arrival
        Assert.Matches(@"per minute 1 \d+", history);
    }
}
