using Midia.Node.Import;
using Xunit;

namespace Midia.Node.Tests.Import;

public sealed class FhirDateTests
{
    [Theory]
    [InlineData("2020", 2020, 1, 1)]
    [InlineData("2020-02", 2020, 2, 1)]
    [InlineData("2020-02-29", 2020, 2, 29)]
    [InlineData("1969-12-31", 1969, 12, 31)]
    [InlineData("2019-03-04T23:30:00+01:00", 2019, 3, 4)]
    [InlineData("2019-03-04T00:00:00Z", 2019, 3, 4)]
    public void FullAndPartialDatesMeanTheirFirstDay(string text, int year, int month, int day)
    {
        Assert.True(FhirDate.TryParse(text, out var days));
        Assert.Equal(SiteFixture.Day(year, month, day), days);
    }

    [Theory]
    [InlineData("")]
    [InlineData("20")]
    [InlineData("2021-02-29")]
    [InlineData("2020-13")]
    [InlineData("2020-1")]
    [InlineData("2020-01-1")]
    [InlineData("2020/01/01")]
    [InlineData("2020-01-01 10:00")]
    [InlineData("yesterday")]
    public void AnythingElseIsNotADate(string text) => Assert.False(FhirDate.TryParse(text, out _));
}
