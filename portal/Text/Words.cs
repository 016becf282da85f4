using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Midia.Portal.Text;

/// <summary>
/// The portal's two languages. Pages write English; the German word lists (Text/de/*.json,
/// embedded, one file per area: {"English text": "Deutscher Text"}) translate it. A text without
/// a German entry shows in English rather than not at all. The language is the person's choice
/// (cookie), else the browser's Accept-Language, else German.
/// </summary>
public sealed class Words(string language)
{
    public const string Cookie = "midia-lang";
    public static readonly IReadOnlyList<string> Languages = ["de", "en"];

    static readonly Lazy<FrozenDictionary<string, string>> German = new(LoadGerman);

    public string Language => language;

    public string this[string english] =>
        language == "de" && German.Value.TryGetValue(english, out var german) ? german : english;

    /// <summary>A text with placeholders ({0}, ...), translated first.</summary>
    public string Format(string english, params object?[] values) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, this[english], values);

    public static Words For(HttpContext http) => new(Choose(http.Request.Cookies[Cookie], http.Request.Headers.AcceptLanguage.ToString()));

    public static string Choose(string? cookie, string acceptLanguage)
    {
        if (cookie is not null && Languages.Contains(cookie)) return cookie;
        // Accept-Language: "en-US,en;q=0.9,de;q=0.8" - the first of our languages by weight wins.
        var best = acceptLanguage.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select((part, index) =>
            {
                var pieces = part.Split(';', StringSplitOptions.TrimEntries);
                var tag = pieces[0].Split('-')[0].ToLowerInvariant();
                var q = 1.0;
                foreach (var p in pieces.Skip(1))
                    if (p.StartsWith("q=", StringComparison.Ordinal) && double.TryParse(p[2..], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v)) q = v;
                return (tag, q, index);
            })
            .Where(x => Languages.Contains(x.tag) && x.q > 0)
            .OrderByDescending(x => x.q).ThenBy(x => x.index)
            .Select(x => x.tag).FirstOrDefault();
        return best ?? "de";
    }

    static FrozenDictionary<string, string> LoadGerman()
    {
        var assembly = typeof(Words).Assembly;
        var words = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("words.de.", StringComparison.Ordinal)).Order())
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            foreach (var (english, german) in JsonSerializer.Deserialize<Dictionary<string, string>>(stream)!)
                words[english] = german;
        }
        return words.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
