using Xunit;

namespace Midia.Node.Tests.Import;

/// <summary>Bundle JSON: urn:uuid references to Patient entries, entry paths in problems.</summary>
public sealed class BundleTests : IDisposable
{
    readonly SiteFixture site = new();

    public void Dispose() => site.Dispose();

    [Fact]
    public void ATransactionBundleResolvesUrnUuidReferencesEvenToALaterPatientEntry()
    {
        var path = site.Write("bundle.json", """
            {"resourceType":"Bundle","type":"transaction","entry":[
              {"fullUrl":"urn:uuid:0d5a3a5e-0000-4000-8000-000000000002",
               "resource":{"resourceType":"Condition","code":{"coding":[{"system":"http://fhir.de/CodeSystem/bfarm/icd-10-gm","code":"C61"}]},
                           "subject":{"reference":"urn:uuid:0d5a3a5e-0000-4000-8000-000000000001"},"recordedDate":"2020"},
               "request":{"method":"POST","url":"Condition"}},
              {"fullUrl":"urn:uuid:0d5a3a5e-0000-4000-8000-000000000001",
               "resource":{"resourceType":"Patient","gender":"male","birthDate":"1955-01-02"},
               "request":{"method":"POST","url":"Patient"}},
              {"fullUrl":"urn:uuid:0d5a3a5e-0000-4000-8000-000000000003",
               "resource":{"resourceType":"Patient","id":"px","gender":"female"}},
              {"resource":{"resourceType":"Observation","id":"o","code":{"coding":[{"system":"http://loinc.org","code":"2857-1"}]},
                           "subject":{"reference":"urn:uuid:0d5a3a5e-0000-4000-8000-000000000003"},"valueQuantity":{"value":1.5,"code":"ng/mL"}}},
              {"request":{"method":"DELETE","url":"Condition/old"}}
            ]}
            """);

        var report = site.Import(path);

        Assert.True(report.Applied, string.Join("\n", report.Problems));
        Assert.Equal(4, report.Resources);
        // An entry without an id takes the uuid of its fullUrl, so re-importing the bundle replaces it.
        Assert.Equal(
            ["0d5a3a5e-0000-4000-8000-000000000001|C61|Condition|0d5a3a5e-0000-4000-8000-000000000002", "px|2857-1|Observation|o"],
            site.Rows("SELECT p.resource_id, f.code, f.resource_type, f.resource_id FROM fact f JOIN patient p USING (pid) ORDER BY 1"));
        Assert.True(site.Import(path).Applied);
        Assert.Equal(2, site.Scalar("SELECT count(*) FROM fact"));
    }

    [Fact]
    public void ACollectionBundleProblemNamesTheEntryPathAndAppliesNothing()
    {
        var path = site.Write("bundle.json", """
            {"resourceType":"Bundle","type":"collection","entry":[
              {"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient","id":"a"}},
              {"resource":{"resourceType":"Condition","id":"c","subject":{"reference":"urn:uuid:2"}}},
              {"resource":{"resourceType":"Condition","id":"d","subject":{"reference":"Patient/a"},"onsetDateTime":2020}}
            ]}
            """);

        var report = site.Import(path);

        Assert.Equal(
            [
                $"{path}: Condition/c entry[1].resource.subject.reference: 'urn:uuid:2' is not a Patient reference (Patient/<id>, a URL ending in Patient/<id>, or a urn:uuid of a Patient entry in the same Bundle)",
                $"{path}: Condition/d entry[2].resource.onsetDateTime: expected a string, found a number",
            ],
            report.Problems.Select(p => p.ToString()));
        Assert.Equal(0, site.Scalar("SELECT count(*) FROM patient"));
    }

    [Fact]
    public void ABundleOfAnotherTypeAndMalformedJsonAreRejected()
    {
        var history = site.Write("history.json", """{"resourceType":"Bundle","type":"history","entry":[]}""");
        Assert.Contains("'history' is not importable", Assert.Single(site.Import(history).Problems).Message);

        var broken = site.Write("broken.json", "{\n  \"resourceType\": \"Bundle\",\n  \"type\": \"collection\",\n  \"entry\": [ }\n");
        var problem = Assert.Single(site.Import(broken).Problems);
        Assert.Equal(4, problem.Line);
        Assert.Contains("malformed JSON", problem.Message);
    }

    [Fact]
    public void ASingleResourceJsonFileIsImported()
    {
        var path = site.Write("patient.json", Fixtures.PatientP1);
        Assert.True(site.Import(path).Applied);
        Assert.Equal(["p1"], site.Rows("SELECT resource_id FROM patient"));
    }
}
