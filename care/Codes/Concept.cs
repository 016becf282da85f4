using System.Text.Encodings.Web;
using System.Text.Json;

namespace Midia.Care.Codes;

/// <summary>A coded concept (system, code, display), encoded once so writing it costs a copy.</summary>
public sealed class Concept(string system, string code, string display)
{
    public string System { get; } = system;
    public string Code { get; } = code;
    public string Display { get; } = display;

    /// <summary>An English or short name where the display is German (ICD-10-GM) or long (LOINC: "PSA"): what the portal's code search also finds.</summary>
    public string? English { get; init; }
    public readonly JsonEncodedText SystemJson = JsonEncodedText.Encode(system, Encoder);
    public readonly JsonEncodedText CodeJson = JsonEncodedText.Encode(code, Encoder);
    public readonly JsonEncodedText DisplayJson = JsonEncodedText.Encode(display, Encoder);

    /// <summary>The system as exports before 2020 spell it: DIMDI's URIs, before BfArM took the classifications over.</summary>
    public readonly JsonEncodedText LegacySystemJson = JsonEncodedText.Encode(
        system.StartsWith(Bfarm, StringComparison.Ordinal) ? "http://fhir.de/CodeSystem/dimdi/" + system[Bfarm.Length..] : system, Encoder);

    const string Bfarm = "http://fhir.de/CodeSystem/bfarm/";

    /// <summary>Relaxed escaping (umlauts as they are): the generator's NDJSON writer uses the same encoder.</summary>
    public static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
}
