namespace Midia.Bench.Suite;

/// <summary>
/// BENCHMARKS.md with generated blocks: everything between `&lt;!-- bench:NAME --&gt;` and
/// `&lt;!-- /bench:NAME --&gt;` belongs to `midia-bench all`; the prose around the markers is kept.
/// </summary>
static class BenchmarksFile
{
    public static string Open(string name) => $"<!-- bench:{name} -->";
    public static string Close(string name) => $"<!-- /bench:{name} -->";

    /// <summary>The document with NAME's block replaced by <paramref name="content"/>; a section with
    /// no markers yet is appended under <paramref name="title"/>, so a fresh file fills up too.</summary>
    public static string Replace(string document, string name, string title, string content)
    {
        var (open, close) = (Open(name), Close(name));
        var start = document.IndexOf(open, StringComparison.Ordinal);
        var end = start < 0 ? -1 : document.IndexOf(close, start, StringComparison.Ordinal);
        if (start >= 0 && end < 0) throw new InvalidDataException($"{open} has no matching {close}");
        if (start < 0)
            return (document.Length == 0 ? "# Benchmarks\n" : document.TrimEnd() + "\n") + $"\n## {title}\n\n{open}\n{content.Trim()}\n{close}\n";
        var replaced = document[..(start + open.Length)] + "\n" + content.Trim() + "\n" + document[end..];
        // The prose is the authors', not the benchmark's: nothing outside the markers may change.
        if (Prose(replaced, name) != Prose(document, name)) throw new InvalidOperationException($"rewriting the {name} block would change text outside its markers");
        return replaced;
    }

    /// <summary>The document with NAME's block emptied.</summary>
    static string Prose(string document, string name)
    {
        var start = document.IndexOf(Open(name), StringComparison.Ordinal) + Open(name).Length;
        return document[..start] + document[document.IndexOf(Close(name), start, StringComparison.Ordinal)..];
    }

    /// <summary>Written to a temporary file first and moved over: a crash never leaves half a document.</summary>
    public static void Write(string path, string document)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, document);
        File.Move(temporary, path, overwrite: true);
    }
}
