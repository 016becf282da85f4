using System.Text.Json;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;

namespace Midia.Cli.Research;

/// <summary>
/// The `midia count --json` document, exactly as docs/INTERFACE.md shows it:
/// {"queryId", "total": {"value", "obfuscated", "belowThreshold"}, "sites": [{"site", "status",
/// "value", "obfuscated", "belowThreshold"} | {"site", "status", "message"}]}; with --stratify,
/// "strata" is added to the total and to every ok site.
/// </summary>
public static class CountJson
{
    public static void Write(Utf8JsonWriter json, string queryId, CountTotal? total, IEnumerable<SiteResult> sites, bool stratified)
    {
        json.WriteStartObject();
        json.WriteString("queryId", queryId);
        json.WritePropertyName("total");
        json.WriteStartObject();
        if (total is { HasValue: true }) json.WriteNumber("value", total.Value); else json.WriteNull("value");
        json.WriteBoolean("obfuscated", total?.Obfuscated ?? false);
        json.WriteBoolean("belowThreshold", total?.BelowThreshold ?? false);
        if (stratified && total is not null)
        {
            json.WritePropertyName("strata");
            json.WriteStartArray();
            foreach (var stratum in total.Strata) WriteStratum(json, stratum.Key, stratum.HasValue ? stratum.Value : null, stratum.Obfuscated, stratum.BelowThreshold);
            json.WriteEndArray();
        }
        json.WriteEndObject();
        json.WritePropertyName("sites");
        json.WriteStartArray();
        foreach (var site in sites) WriteSite(json, site, stratified);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static void WriteSite(Utf8JsonWriter json, SiteResult site, bool stratified)
    {
        json.WriteStartObject();
        json.WriteString("site", site.Site);
        json.WriteString("status", site.Status.Word());
        if (site.Status != SiteStatus.Ok) json.WriteString("message", site.Message);
        else if (stratified)
        {
            json.WritePropertyName("strata");
            json.WriteStartArray();
            foreach (var stratum in site.Strata)
                WriteStratum(json, stratum.Key, stratum.Count is { HasValue: true } c ? c.Value : null, stratum.Count?.Obfuscated ?? false, stratum.Count?.BelowThreshold ?? true);
            json.WriteEndArray();
        }
        else if (site.Count is { HasValue: true } count)
        {
            json.WriteNumber("value", count.Value);
            json.WriteBoolean("obfuscated", count.Obfuscated);
            json.WriteBoolean("belowThreshold", false);
        }
        else
        {
            json.WriteNull("value");
            json.WriteBoolean("belowThreshold", true);
        }
        json.WriteEndObject();
    }

    static void WriteStratum(Utf8JsonWriter json, IEnumerable<KeyValuePair<string, string>> key, long? value, bool obfuscated, bool belowThreshold)
    {
        json.WriteStartObject();
        json.WritePropertyName("key");
        json.WriteStartObject();
        foreach (var (name, text) in key.OrderBy(k => k.Key, StringComparer.Ordinal)) json.WriteString(name, text);
        json.WriteEndObject();
        if (value is { } v) json.WriteNumber("value", v); else json.WriteNull("value");
        json.WriteBoolean("obfuscated", obfuscated);
        json.WriteBoolean("belowThreshold", belowThreshold);
        json.WriteEndObject();
    }


    public static Utf8JsonWriter Stdout(Stream stream) => new(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
