using Midia.Node.Store;
using Midia.Portal.Research;

namespace Midia.Portal.Tests;

/// <summary>The builder's code search: German and English names, codes and systems lead to the same codes.</summary>
public sealed class CodeCatalogueTests
{
    static IEnumerable<string> Found(string text) => CodeCatalogue.Search(text).Select(c => $"{CatalogueCode.SystemName(c.System)}|{c.Code}");

    [Theory]
    [InlineData("breast cancer", "icd-10-gm|C50")]
    [InlineData("Brustdrüse", "icd-10-gm|C50")]
    [InlineData("c50", "icd-10-gm|C50.4")]
    [InlineData("prostate cancer", "icd-10-gm|C61")]
    [InlineData("Multiple Sklerose", "icd-10-gm|G35")]
    [InlineData("multiple sclerosis", "icd-10-gm|G35")]
    [InlineData("PSA", "loinc.org|2857-1")]
    [InlineData("Prostate specific", "loinc.org|2857-1")]
    [InlineData("edss", "ms-assessment|edss")]
    [InlineData("ms-assessment", "ms-assessment|relapse")]
    [InlineData("gleason", "gleason|sum")]
    [InlineData("trastuzumab", "atc|L01FD01")]
    [InlineData("L04AG08", "atc|L04AG08")]
    [InlineData("Prostatovesikulektomie", "ops|5-604.02")]
    [InlineData("Sex", "loinc.org|LL2191-6")]
    [InlineData("Alter", "loinc.org|30525-0")]
    public void A_search_finds_the_code(string text, string expected) => Assert.Contains(expected, Found(text));

    [Fact]
    public void A_search_for_nothing_known_finds_nothing_and_every_code_is_offered_once()
    {
        Assert.Empty(Found("no such disease xyz"));
        Assert.Equal(CodeCatalogue.Codes.Count, CodeCatalogue.Codes.Select(c => (c.System, c.Code)).Distinct().Count());
        // every system is the network's canonical spelling, so a criterion built from the list meets the data
        Assert.All(CodeCatalogue.Codes, c => Assert.Equal(CodeSystems.Canonical(c.System), c.System));
    }

    [Fact]
    public void The_builder_offers_the_codes_with_the_filter_their_values_take()
    {
        var psa = Assert.Single(CodeCatalogue.Codes, c => c.Code == "2857-1");
        Assert.Equal(("Laboruntersuchung", "quantity", "ng/mL"), (psa.Context, psa.Filter, psa.Unit));
        var c50 = Assert.Single(CodeCatalogue.Codes, c => c.Code == "C50");
        Assert.Equal(("Diagnose", "none"), (c50.Context, c50.Filter));
        Assert.Equal("Prozedur", Assert.Single(CodeCatalogue.Codes, c => c.Code == "5-604.02").Context);
        Assert.Equal("Medikamentenverabreichung", Assert.Single(CodeCatalogue.Codes, c => c.Code == "L01FD01").Context);
    }
}
