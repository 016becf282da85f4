using System.Text.Json;
using Midia.Cli.Dev.Synth;

namespace Midia.Node.Tests.Synth;

/// <summary>A small synthetic export on disk, parsed once: three sites of a few hundred patients.</summary>
public sealed class SynthExport : IDisposable
{
    public static readonly string[] Sites = ["erlangen", "munich", "practice"];
    public static readonly string[] Types = ["Patient", "Condition", "Observation", "MedicationStatement", "Procedure", "ImagingStudy", "Consent", "Medication"];
    public const int PatientsPerSite = 400;
    public const ulong Seed = 20260101;

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "midia-synth-" + Guid.NewGuid().ToString("N"));

    /// <summary>site -> resource type -> parsed lines (file order).</summary>
    public Dictionary<string, Dictionary<string, List<JsonElement>>> Resources { get; } = [];

    public SynthExport()
    {
        Write(Directory, Seed, PatientsPerSite);
        foreach (var site in Sites)
        {
            Resources[site] = [];
            foreach (var type in Types)
                Resources[site][type] = File.ReadLines(Path.Combine(Directory, site, type + ".ndjson"))
                    .Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
        }
    }

    public static void Write(string directory, ulong seed, int patients, string[]? sites = null) =>
        SynthCommand.Generate(new Population(seed, sites ?? Sites, patients), directory);

    public IEnumerable<(string Site, JsonElement Resource)> All(string type) =>
        Sites.SelectMany(site => Resources[site][type].Select(r => (site, r)));

    /// <summary>A statement's drug: the `code` of the site's Medication its medicationReference names (as an importer resolves it).</summary>
    public JsonElement Drug(string site, JsonElement statement)
    {
        var reference = statement.GetProperty("medicationReference").GetProperty("reference").GetString()!;
        return Resources[site]["Medication"].Single(m => "Medication/" + m.GetProperty("id").GetString() == reference).GetProperty("code");
    }

    /// <summary>The code of a resource: `code`, or for a statement its Medication's code.</summary>
    public JsonElement CodeOf(string site, JsonElement resource) =>
        resource.TryGetProperty("code", out var code) ? code : Drug(site, resource);

    public static IEnumerable<JsonElement> Codings(JsonElement concept) =>
        concept.TryGetProperty("coding", out var coding) ? coding.EnumerateArray() : [];

    public static string? Kvnr(JsonElement patient) =>
        patient.GetProperty("identifier").EnumerateArray()
            .Where(i => i.GetProperty("system").GetString() == "http://fhir.de/sid/gkv/kvid-10")
            .Select(i => i.GetProperty("value").GetString()).SingleOrDefault();

    /// <summary>Family, given names, birth date and sex: what demographic linkage compares.</summary>
    public static string Demographics(JsonElement patient)
    {
        var name = patient.GetProperty("name")[0];
        var given = string.Join(" ", name.GetProperty("given").EnumerateArray().Select(g => g.GetString()));
        return $"{name.GetProperty("family").GetString()}|{given}|{patient.GetProperty("birthDate").GetString()}|{patient.GetProperty("gender").GetString()}";
    }

    public void Dispose()
    {
        if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
    }
}
