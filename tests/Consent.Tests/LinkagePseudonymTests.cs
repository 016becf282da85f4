using System.Security.Cryptography;
using System.Text;
using Midia.Node.Linkage;

namespace Midia.Consent.Tests;

public sealed class LinkagePseudonymTests
{
    static readonly LinkageKey Key = LinkageKey.FromSecret("a test linkage secret of at least thirty-two bytes"u8);
    static readonly LinkageKey OtherKey = LinkageKey.FromSecret("another secret, also at least thirty-two bytes long"u8);

    [Fact]
    public void A_kvnr_pseudonym_is_the_hmac_of_the_prefixed_upper_case_trimmed_kvnr()
    {
        // Independent evaluation: HMAC-SHA256 over the documented input, base64url without padding.
        var expected = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes("a test linkage secret of at least thirty-two bytes"),
            Encoding.UTF8.GetBytes("midia-linkage/kvnr/v1\nA123456789"))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Assert.Equal(expected, LinkagePseudonym.Of(Key, " a123456789 ", "x", "y", 1, "female"));
        Assert.Equal(43, expected.Length);
    }

    [Fact]
    public void The_same_person_spelled_differently_gets_the_same_demographic_pseudonym()
    {
        var a = LinkagePseudonym.Of(Key, null, "Müller-Lüdenscheidt", "Jörg Anton", 5000, "male");
        var b = LinkagePseudonym.Of(Key, "  ", "MULLER LUDENSCHEIDT", "jorg  anton", 5000, "MALE");
        Assert.NotNull(a);
        Assert.Equal(a, b);
        Assert.Equal("strasse", LinkagePseudonym.Name("Straße"));
        Assert.Equal(LinkagePseudonym.Name("Mu\u0308ller"), LinkagePseudonym.Name("MÜLLER"));
        Assert.Equal("zolkiewskaaeoe", LinkagePseudonym.Name("Żółkiewska Æœ"));
    }

    [Fact]
    public void Different_people_keys_and_input_kinds_give_different_pseudonyms()
    {
        var person = LinkagePseudonym.Of(Key, null, "Meier", "Anna", 5000, "female");
        Assert.NotEqual(person, LinkagePseudonym.Of(Key, null, "Meier", "Anna", 5001, "female"));
        Assert.NotEqual(person, LinkagePseudonym.Of(Key, null, "Meier", "Anna", 5000, "male"));
        Assert.NotEqual(person, LinkagePseudonym.Of(OtherKey, null, "Meier", "Anna", 5000, "female"));
        Assert.NotEqual(LinkagePseudonym.Of(Key, "A1", null, null, null, null), LinkagePseudonym.Of(OtherKey, "A1", null, null, null, null));
    }

    [Fact]
    public void A_patient_without_kvnr_name_or_birth_date_has_no_pseudonym()
    {
        Assert.Null(LinkagePseudonym.Of(Key, null, null, "Anna", 5000, "female"));
        Assert.Null(LinkagePseudonym.Of(Key, null, "Meier", "Anna", null, "female"));
    }
}
