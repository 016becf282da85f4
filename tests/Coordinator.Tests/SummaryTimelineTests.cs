using Midia.Coordinator.Care;
using Midia.Protos.Node.V1;

namespace Midia.Coordinator.Tests;

/// <summary>Merging the sites' parts: one timeline, exact duplicates folded, every site's entries all still there.</summary>
public sealed class SummaryTimelineTests
{
    static SummaryEntry Psa(string date, double? value, string unit = "ng/mL")
    {
        var entry = new SummaryEntry { Kind = "observation", Section = "results", System = "http://loinc.org", Code = "2857-1", Display = "PSA", Date = date, Unit = unit };
        if (value is { } v) entry.Value = v;
        return entry;
    }

    [Fact]
    public void Exact_duplicates_from_several_sites_fold_into_one_entry_naming_the_sites_in_registry_order()
    {
        var timeline = SummaryTimeline.Merge(
        [
            ("erlangen", [Psa("2020-01-01", 4.1), Psa("2021-01-01", 5)]),
            ("munich", [Psa("2019-06-01", 3.2), Psa("2020-01-01", 4.1)]),
            ("practice", [Psa("2020-01-01", 4.1), Psa("2020-01-01", 4.1, "ug/L"), Psa("2020-01-01", 4.2)]),
        ]);

        Assert.Equal(
            ["2019-06-01 3.2 ng/mL munich", "2020-01-01 4.1 ng/mL erlangen,munich,practice", "2020-01-01 4.1 ug/L practice", "2020-01-01 4.2 ng/mL practice", "2021-01-01 5 ng/mL erlangen"],
            timeline.Select(t => $"{t.Entry.Date} {t.Entry.Value} {t.Entry.Unit} {string.Join(",", t.Sites)}"));
    }

    [Fact]
    public void Copies_within_one_site_are_not_folded_so_each_sites_count_is_kept()
    {
        var timeline = SummaryTimeline.Merge(
        [
            ("erlangen", [Psa("2020-01-01", 4.1), Psa("2020-01-01", 4.1)]),
            ("munich", [Psa("2020-01-01", 4.1)]),
        ]);

        Assert.Equal(["erlangen,munich", "erlangen"], timeline.Select(t => string.Join(",", t.Sites)));
    }

    [Fact]
    public void An_entry_without_a_value_differs_from_one_with_value_zero_and_undated_entries_come_last()
    {
        var timeline = SummaryTimeline.Merge(
        [
            ("erlangen", [Psa("", 1), Psa("2020-01-01", null)]),
            ("munich", [Psa("2020-01-01", 0)]),
        ]);

        Assert.Equal(["2020-01-01 - erlangen", "2020-01-01 0 munich", " 1 erlangen"],
            timeline.Select(t => $"{t.Entry.Date} {(t.Entry.HasValue ? t.Entry.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "-")} {string.Join(",", t.Sites)}"));
    }
}
