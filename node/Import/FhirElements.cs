using System.Text.Json;

namespace Midia.Node.Import;

/// <summary>A FHIR Coding reduced to what a fact needs.</summary>
readonly record struct Coding(string System, string Code, string? Display);

/// <summary>
/// Typed access to one resource's JSON that notes every element of the wrong JSON type as a
/// problem at its path instead of throwing, so one pass reports everything wrong with a file.
/// </summary>
abstract class FhirElements
{
    protected abstract void Problem(string path, string message);

    bool Get(JsonElement parent, string name, JsonValueKind kind, string path, out JsonElement value)
    {
        if (!parent.TryGetProperty(name, out value) || value.ValueKind == JsonValueKind.Null) return false;
        if (value.ValueKind == kind) return true;
        Problem(path, $"expected {Describe(kind)}, found {Describe(value.ValueKind)}");
        return false;
    }

    static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    protected bool Object(JsonElement parent, string name, string path, out JsonElement value) =>
        Get(parent, name, JsonValueKind.Object, path, out value);

    protected bool Array(JsonElement parent, string name, string path, out JsonElement value) =>
        Get(parent, name, JsonValueKind.Array, path, out value);

    protected string? String(JsonElement parent, string name, string path) =>
        Get(parent, name, JsonValueKind.String, path, out var value) ? value.GetString() : null;

    protected double? Number(JsonElement parent, string name, string path)
    {
        if (!Get(parent, name, JsonValueKind.Number, path, out var value)) return null;
        var number = value.GetDouble();
        if (double.IsFinite(number)) return number;
        Problem(path, "a number beyond the range of a double");
        return null;
    }

    protected bool? Boolean(JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False) return value.GetBoolean();
        Problem(path, $"expected a boolean, found {Describe(value.ValueKind)}");
        return null;
    }

    /// <summary>A FHIR date or dateTime as Days; partial dates (yyyy, yyyy-mm) mean their first day.</summary>
    protected int? Date(JsonElement parent, string name, string path)
    {
        var text = String(parent, name, path);
        if (text is null) return null;
        if (FhirDate.TryParse(text, out var days)) return days;
        Problem(path, $"'{text}' is not a FHIR date (yyyy, yyyy-mm, yyyy-mm-dd or a dateTime)");
        return null;
    }

    /// <summary>The start of a Period element (or its end).</summary>
    protected int? PeriodDate(JsonElement parent, string name, string path, bool end = false) =>
        Object(parent, name, path, out var period)
            ? Date(period, end ? "end" : "start", path + (end ? ".end" : ".start"))
            : null;

    /// <summary>The codings of a CodeableConcept element; codings without a system or code carry nothing to count.</summary>
    protected void Codings(JsonElement parent, string name, string path, List<Coding> into)
    {
        if (Object(parent, name, path, out var concept)) ConceptCodings(concept, path, into);
    }

    /// <summary>The codings of every CodeableConcept in an array element (category, bodySite, interpretation).</summary>
    protected void CodingsOfArray(JsonElement parent, string name, string path, List<Coding> into)
    {
        if (!Array(parent, name, path, out var concepts)) return;
        int i = 0;
        foreach (var concept in concepts.EnumerateArray())
        {
            if (concept.ValueKind == JsonValueKind.Object) ConceptCodings(concept, $"{path}[{i}]", into);
            else Problem($"{path}[{i}]", "expected a CodeableConcept object");
            i++;
        }
    }

    protected void ConceptCodings(JsonElement concept, string path, List<Coding> into)
    {
        if (!Array(concept, "coding", path + ".coding", out var codings)) return;
        int i = 0;
        foreach (var coding in codings.EnumerateArray())
        {
            if (coding.ValueKind == JsonValueKind.Object) AddCoding(coding, path, i, into);
            else Problem($"{path}.coding[{i}]", "expected a Coding object");
            i++;
        }
    }

    /// <summary>
    /// One Coding (of a CodeableConcept at <paramref name="path"/>.coding[index], or with index -1
    /// at path itself). The hot path of every import: its JSON path is built only for a problem.
    /// </summary>
    protected void AddCoding(JsonElement coding, string path, int index, List<Coding> into, string? defaultSystem = null)
    {
        if (Text(coding, "system", out var system) & Text(coding, "code", out var code) & Text(coding, "display", out var display))
        {
            system ??= defaultSystem;
            if (system is not null && code is not null) into.Add(new Coding(system, code, display));
            return;
        }
        var at = index < 0 ? path : $"{path}.coding[{index}]";
        String(coding, "system", at + ".system");
        String(coding, "code", at + ".code");
        String(coding, "display", at + ".display");
    }

    /// <summary>A string property; false only when it is there with another JSON type.</summary>
    static bool Text(JsonElement parent, string name, out string? value)
    {
        value = null;
        if (!parent.TryGetProperty(name, out var element)) return true;
        if (element.ValueKind == JsonValueKind.String) value = element.GetString();
        return element.ValueKind is JsonValueKind.String or JsonValueKind.Null;
    }
}

/// <summary>FHIR date and dateTime text to Days. The calendar day as written; the time and zone are dropped.</summary>
public static class FhirDate
{
    public static bool TryParse(string text, out int days)
    {
        days = 0;
        var s = text.AsSpan();
        if (s.Length < 4 || !Digits(s[..4], out var year) || year < 1) return false;
        int month = 1, day = 1;
        if (s.Length > 4)
        {
            if (s.Length < 7 || s[4] != '-' || !Digits(s.Slice(5, 2), out month) || month is < 1 or > 12) return false;
            if (s.Length > 7)
            {
                if (s.Length < 10 || s[7] != '-' || !Digits(s.Slice(8, 2), out day)) return false;
                if (day < 1 || day > DateTime.DaysInMonth(year, month)) return false;
                if (s.Length > 10 && s[10] != 'T') return false;
            }
        }
        days = Store.Days.From(new DateOnly(year, month, day));
        return true;
    }

    static bool Digits(ReadOnlySpan<char> s, out int value)
    {
        value = 0;
        foreach (var c in s)
        {
            if (c is < '0' or > '9') return false;
            value = value * 10 + (c - '0');
        }
        return true;
    }
}
