using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Midia.Cli.Dev.Synth;

/// <summary>
/// One resource type's NDJSON being built in memory: a resource per line, written with a
/// Utf8JsonWriter that is reset after each line. The owner drains it into the file in order.
/// </summary>
public sealed class NdjsonSink
{
    // Umlauts in names stay readable UTF-8 instead of \u escapes; output is never embedded in HTML.
    public static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    readonly ArrayBufferWriter<byte> buffer = new(1 << 16);
    public Utf8JsonWriter Json { get; }
    public long Count { get; private set; }

    public NdjsonSink() => Json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = Encoder, SkipValidation = true });

    public Utf8JsonWriter Begin(JsonEncodedText resourceType, string id)
    {
        Json.WriteStartObject();
        Json.WriteString(Fhir.ResourceType, resourceType);
        Json.WriteString(Fhir.Id, id);
        return Json;
    }

    public void End()
    {
        Json.WriteEndObject();
        Json.Flush();
        buffer.GetSpan(1)[0] = (byte)'\n';
        buffer.Advance(1);
        Json.Reset();
        Count++;
    }

    public int Length => buffer.WrittenCount;

    public void DrainTo(Stream file)
    {
        file.Write(buffer.WrittenSpan);
        buffer.ResetWrittenCount();
    }
}

/// <summary>The eight Bulk Data files of one site, in memory until drained. The site's Medication
/// resources are written once per site (MedicationCatalogue), not per patient: that sink stays empty.</summary>
public sealed class ResourceSinks
{
    public static readonly string[] Types = ["Patient", "Condition", "Observation", "MedicationStatement", "Procedure", "ImagingStudy", "Consent", "Medication"];

    /// <summary>The index of the Medication file in <see cref="Types"/>.</summary>
    public const int MedicationFile = 7;

    public readonly NdjsonSink Patient = new(), Condition = new(), Observation = new(), Medication = new(),
        Procedure = new(), Imaging = new(), Consent = new(), Catalogue = new();

    public NdjsonSink this[int type] => type switch
    {
        0 => Patient, 1 => Condition, 2 => Observation, 3 => Medication, 4 => Procedure, 5 => Imaging, 6 => Consent, _ => Catalogue,
    };
}
