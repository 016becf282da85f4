using Midia.Coordinator.Sites;

namespace Midia.Coordinator.Tests;

public sealed class SiteRegistryTests
{
    [Fact]
    public void AValidFileGivesTheSitesInOrder()
    {
        var sites = SiteRegistry.Parse("""[{"id": "erlangen", "address": "https://127.0.0.1:7101"}, {"id": "munich", "address": "https://localhost:7102/"}]""", "sites.json");
        Assert.Equal(["erlangen", "munich"], sites.Select(s => s.Id));
        Assert.Equal(7102, sites[1].Address.Port);
    }

    [Theory]
    [InlineData("""{"id": "erlangen"}""", "sites.json: $: expected an array")]
    [InlineData("""[{"id": "erlangen", "address": "http://127.0.0.1:7101"}]""", "sites.json: $[0].address: 'http://127.0.0.1:7101' is not an https address")]
    [InlineData("""[{"id": "erlangen", "address": "https://a:1"}, {"id": "Munich", "address": "https://b:2"}]""", "sites.json: $[1].id: 'Munich' may hold only")]
    [InlineData("""[{"id": "erlangen", "adress": "https://a:1"}]""", "sites.json: $[0].adress: unknown property")]
    [InlineData("""[{"id": "erlangen", "address": "https://a:1"}, {"id": "erlangen", "address": "https://b:2"}]""", "sites.json: $[1].id: site 'erlangen' is listed twice")]
    [InlineData("""[{"address": "https://a:1"}]""", "sites.json: $[0]: \"id\" is missing")]
    [InlineData("""[{"id": 7, "address": "https://a:1"}]""", "sites.json: $[0].id: expected a string, found a number")]
    [InlineData("[]", "sites.json: $: names no site")]
    [InlineData("[\n  {\"id\": \"erlangen\",,}\n]", "sites.json:2:")]
    public void ABrokenFileIsRefusedNamingTheFileAndTheJsonPath(string json, string expected)
    {
        var error = Assert.Throws<SitesFileException>(() => SiteRegistry.Parse(json, "sites.json"));
        Assert.StartsWith(expected, error.Message);
    }
}
