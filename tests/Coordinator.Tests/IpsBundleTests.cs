using System.Text.Json;
using System.Text.Json.Nodes;
using Midia.Care;
using Midia.Coordinator.Tests.Support;
using Midia.Node.Import;
using Midia.Node.Store;
using Midia.Protos.Coordinator.V1;

namespace Midia.Coordinator.Tests;

/// <summary>`midia summary --fhir`: a FHIR R4 IPS document Bundle, checked against the specification and read back by the node's own importer.</summary>
public sealed class IpsBundleTests
{
    static readonly DateTimeOffset Now = new(2026, 11, 22, 9, 30, 0, TimeSpan.Zero);

    static JsonDocument Bundle(SummaryReply reply) => JsonDocument.Parse(IpsBundle.Build(reply, Now).ToJsonString());

    static IEnumerable<JsonElement> Resources(JsonElement bundle) => bundle.GetProperty("entry").EnumerateArray().Select(e => e.GetProperty("resource"));

    static JsonElement Section(JsonElement bundle, string loinc) =>
        Resources(bundle).First().GetProperty("section").EnumerateArray().Single(s => s.GetProperty("code").GetProperty("coding")[0].GetProperty("code").GetString() == loinc);

    [Fact]
    public void TheBundleIsAStructurallyValidFhirR4DocumentWhoseReferencesAllResolve()
    {
        using var document = Bundle(SummaryReplies.Rich());

        Assert.Empty(FhirR4Structure.Problems(document.RootElement));
    }

    [Fact]
    public void TheValidatorCatchesAMissingStatusADanglingReferenceAndAnEmptyReasonBesideEntries()
    {
        var bundle = IpsBundle.Build(SummaryReplies.Rich(), Now);
        var observation = bundle["entry"]!.AsArray().Select(e => e!["resource"]!.AsObject()).First(r => (string?)r["resourceType"] == "Observation");
        observation.Remove("status");
        var condition = bundle["entry"]!.AsArray().Select(e => e!["resource"]!.AsObject()).First(r => (string?)r["resourceType"] == "Condition");
        condition["subject"] = new JsonObject { ["reference"] = "urn:uuid:00000000-0000-0000-0000-000000000000" };
        var problems = bundle["entry"]![0]!["resource"]!["section"]!.AsArray().First(s => s!["entry"] is not null)!.AsObject();
        problems["emptyReason"] = new JsonObject { ["text"] = "none" };
        using var document = JsonDocument.Parse(bundle.ToJsonString());

        var found = FhirR4Structure.Problems(document.RootElement);

        Assert.Contains(found, p => p.Contains("(Observation).status: required"));
        Assert.Contains(found, p => p.Contains("does not resolve") && p.Contains("00000000-0000"));
        Assert.Contains(found, p => p.StartsWith("cmp-2:", StringComparison.Ordinal));
        Assert.Equal(3, found.Count);
    }

    [Fact]
    public void TheCompositionIsAnIpsWithItsSectionsAndThePatientCarriesNoIdentifier()
    {
        var reply = SummaryReplies.Rich();
        using var document = Bundle(reply);
        var bundle = document.RootElement;
        var composition = Resources(bundle).First();

        Assert.Equal("document", bundle.GetProperty("type").GetString());
        Assert.Equal("2026-11-22T09:30:00Z", bundle.GetProperty("timestamp").GetString());
        Assert.Equal(("http://loinc.org", "60591-5"), (composition.GetProperty("type").GetProperty("coding")[0].GetProperty("system").GetString(), composition.GetProperty("type").GetProperty("coding")[0].GetProperty("code").GetString()));
        Assert.Equal("final", composition.GetProperty("status").GetString());
        var sections = composition.GetProperty("section").EnumerateArray().Select(s => s.GetProperty("code").GetProperty("coding")[0].GetProperty("code").GetString()).ToList();
        Assert.Equal(["11450-4", "10160-0", "48765-2", "30954-2", "47519-4", "18748-4", "staging"], sections);
        var patient = Assert.Single(Resources(bundle), r => r.GetProperty("resourceType").GetString() == "Patient");
        Assert.False(patient.TryGetProperty("identifier", out _));
        Assert.False(patient.TryGetProperty("name", out _));
        var author = composition.GetProperty("author")[0].GetProperty("reference").GetString();
        var organization = bundle.GetProperty("entry").EnumerateArray().Single(e => e.GetProperty("fullUrl").GetString() == author).GetProperty("resource");
        Assert.Equal("Midia Federated network", organization.GetProperty("name").GetString());

        // Every clinical resource sits in exactly one section, and the sections hold exactly the reply's entries.
        var inSections = composition.GetProperty("section").EnumerateArray().Where(s => s.TryGetProperty("entry", out _))
            .SelectMany(s => s.GetProperty("entry").EnumerateArray().Select(e => e.GetProperty("reference").GetString())).ToList();
        Assert.Equal(reply.Entries.Count, inSections.Count);
        Assert.Equal(inSections.Count, inSections.Distinct().Count());
        var allergies = Section(bundle, "48765-2");
        Assert.Equal("notasked", allergies.GetProperty("emptyReason").GetProperty("coding")[0].GetProperty("code").GetString());
        Assert.Equal("http://terminology.hl7.org/CodeSystem/list-empty-reason", allergies.GetProperty("emptyReason").GetProperty("coding")[0].GetProperty("system").GetString());

        // A folded duplicate names every source site.
        var ms = Resources(bundle).Single(r => r.GetProperty("resourceType").GetString() == "Condition" && r.GetProperty("code").GetProperty("coding")[0].GetProperty("code").GetString() == "G35");
        Assert.Equal(["erlangen", "munich"], ms.GetProperty("extension").EnumerateArray().Where(x => x.GetProperty("url").GetString() == IpsBundle.SourceSiteExtension).Select(x => x.GetProperty("valueString").GetString()));
        // The narrative of a section with entries says which sites are missing.
        Assert.Contains("practice: timeout, " + SummaryReplies.TimeoutMessage, Section(bundle, "11450-4").GetProperty("text").GetProperty("div").GetString());
    }

    [Theory]
    [InlineData(SiteStatus.Timeout, "unavailable")]
    [InlineData(SiteStatus.NotApproved, "unavailable")]
    [InlineData(SiteStatus.NotShared, "withheld")]
    [InlineData(SiteStatus.Ok, "nilknown")]
    public void AnEmptySectionSaysWhyItIsEmpty(SiteStatus other, string reason)
    {
        var reply = SummaryReplies.ProblemsOnly(new SummarySite { Site = "munich", Status = other, Message = other == SiteStatus.Ok ? "" : "the reason munich gave" });
        using var document = Bundle(reply);

        Assert.Empty(FhirR4Structure.Problems(document.RootElement));
        var medications = Section(document.RootElement, "10160-0");
        Assert.False(medications.TryGetProperty("entry", out _));
        Assert.Equal(reason, medications.GetProperty("emptyReason").GetProperty("coding")[0].GetProperty("code").GetString());
        var narrative = medications.GetProperty("text").GetProperty("div").GetString()!;
        Assert.Contains("No medications recorded at erlangen", narrative);
        if (other != SiteStatus.Ok) Assert.Contains("munich", narrative);
        if (other != SiteStatus.Ok) Assert.Contains("the reason munich gave", narrative);
        // Optional sections without entries are left out rather than shown empty.
        Assert.DoesNotContain(Resources(document.RootElement).First().GetProperty("section").EnumerateArray(),
            s => s.GetProperty("code").GetProperty("coding")[0].GetProperty("code").GetString() is "18748-4" or "staging");
    }

    [Fact]
    public void TheNodesOwnImporterReadsTheBundleBackIntoExactlyTheSummarysFacts()
    {
        var reply = SummaryReplies.Rich();
        var folder = Path.Combine(Path.GetTempPath(), "midia-ips-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        try
        {
            var bundle = IpsBundle.Build(reply, Now);
            Assert.Equal("document", (string?)bundle["type"]);
            var file = Path.Combine(folder, "summary.json");
            File.WriteAllText(file, bundle.ToJsonString());
            var db = Path.Combine(folder, "site.db");
            using (var connection = SiteDatabase.Open(db))
            {
                ImportReport report;
                using (var importer = new FhirImporter(connection)) report = importer.ImportFile(file, skipUnknown: true);
                Assert.Empty(report.Problems);
                // Only the Composition and its author are not clinical data the node keeps.
                Assert.Equal(["Composition", "Organization"], report.Warnings.Select(w => w.Message.Split('/')[0].Split(' ')[0]).Order());

                var facts = new List<string>();
                using var command = connection.CreateCommand();
                command.CommandText = """
                    SELECT s.uri, f.code, f.kind, f.date, f.end_date, f.value_num, f.unit, v.uri, f.value_code, f.display, f.value_display
                    FROM fact f JOIN code_system s ON s.sid = f.sid LEFT JOIN code_system v ON v.sid = f.value_sid
                    """;
                using (var reader = command.ExecuteReader())
                    while (reader.Read())
                        facts.Add(Fact(reader.GetString(0), reader.GetString(1), (FactKind)reader.GetInt32(2),
                            reader.IsDBNull(3) ? null : reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetInt32(4),
                            reader.IsDBNull(5) ? null : reader.GetDouble(5), reader.IsDBNull(6) ? "" : reader.GetString(6),
                            reader.IsDBNull(7) ? "" : reader.GetString(7), reader.IsDBNull(8) ? "" : reader.GetString(8), reader.IsDBNull(9) ? "" : reader.GetString(9),
                            reader.IsDBNull(10) ? "" : reader.GetString(10)));
                command.CommandText = "SELECT count(*) FROM patient";
                Assert.Equal(1L, (long)command.ExecuteScalar()!);

                var expected = reply.Entries.Select(t => t.Entry).Select(e => Fact(CodeSystems.Canonical(e.System), e.Code, Kind(e.Kind),
                    e.Date.Length > 0 ? Days.From(DateOnly.Parse(e.Date)) : null, e.EndDate.Length > 0 ? Days.From(DateOnly.Parse(e.EndDate)) : null,
                    e.HasValue ? e.Value : null, e.Unit, e.ValueSystem, e.ValueCode, e.Display, e.ValueDisplay));
                Assert.Equal(expected.Order(StringComparer.Ordinal), facts.Order(StringComparer.Ordinal));
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    static string Fact(string system, string code, FactKind kind, int? date, int? end, double? value, string unit, string valueSystem, string valueCode, string display, string valueDisplay) =>
        $"{kind} {system}|{code} date={date} end={end} value={value?.ToString(System.Globalization.CultureInfo.InvariantCulture)} unit={unit} coded={valueSystem}|{valueCode} display={display} valueDisplay={valueDisplay}";

    static FactKind Kind(string kind) => kind switch
    {
        "condition" => FactKind.Condition,
        "medication" => FactKind.Medication,
        "procedure" => FactKind.Procedure,
        "imaging" => FactKind.Imaging,
        _ => FactKind.Observation,
    };
}
