using System.Text.Json;
using Microsoft.Extensions.Logging;
using Midia.Hosting;

namespace Midia.Coordinator.Sites;

/// <summary>One site of the network as the coordinator knows it: its id and its node's address.</summary>
public sealed record Site(string Id, Uri Address);

/// <summary>A sites file that cannot be used: the message names the file, the line or JSON path, and the problem.</summary>
public sealed class SitesFileException(string message) : CommandException(message);

/// <summary>
/// The sites the coordinator fans out to, from the --sites JSON file
/// (<c>[{"id": "erlangen", "address": "https://127.0.0.1:7101"}, …]</c>). The file is watched: a
/// valid edit replaces the registry at once, a broken one keeps the last good registry and logs one line.
/// </summary>
public sealed partial class SiteRegistry : IDisposable
{
    static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(200);

    readonly ILogger logger;
    readonly FileSystemWatcher? watcher;
    readonly Timer reloadTimer;
    volatile IReadOnlyList<Site> sites;

    SiteRegistry(string path, IReadOnlyList<Site> initial, ILogger logger, bool watch)
    {
        Path = path;
        sites = initial;
        LoadedAt = DateTimeOffset.UtcNow;
        this.logger = logger;
        reloadTimer = new Timer(_ => Reload(), null, Timeout.Infinite, Timeout.Infinite);
        if (!watch) return;
        watcher = new FileSystemWatcher(System.IO.Path.GetDirectoryName(path)!, System.IO.Path.GetFileName(path))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        // Editors save by writing in place or by renaming a temporary file over the original: watch both.
        watcher.Changed += (_, _) => ScheduleReload();
        watcher.Created += (_, _) => ScheduleReload();
        watcher.Renamed += (_, _) => ScheduleReload();
        watcher.EnableRaisingEvents = true;
    }

    public string Path { get; }
    public IReadOnlyList<Site> Sites => sites;
    public DateTimeOffset LoadedAt { get; private set; }

    /// <summary>Raised after a valid edit replaced the registry.</summary>
    public event Action<IReadOnlyList<Site>>? Changed;

    /// <summary>Loads the file (errors are fatal here: a coordinator without a valid registry does not start) and watches it.</summary>
    public static SiteRegistry Open(string path, ILogger logger, bool watch = true)
    {
        var full = System.IO.Path.GetFullPath(path);
        var registry = new SiteRegistry(full, Load(full), logger, watch);
        Log.Loaded(logger, full, registry.Sites.Count, string.Join(", ", registry.Sites.Select(s => s.Id)));
        return registry;
    }

    public static IReadOnlyList<Site> Load(string path)
    {
        string json;
        try { json = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SitesFileException($"{path}: cannot be read: {e.Message}");
        }
        return Parse(json, path);
    }

    public static IReadOnlyList<Site> Parse(string json, string path)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e)
        {
            throw new SitesFileException($"{path}:{e.LineNumber + 1}:{e.BytePositionInLine + 1}: not valid JSON: {FirstSentence(e.Message)}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
                throw new SitesFileException($"{path}: $: expected an array of sites like [{{\"id\": \"erlangen\", \"address\": \"https://127.0.0.1:7101\"}}], found {Kind(root)}");
            var result = new List<Site>();
            var index = 0;
            foreach (var element in root.EnumerateArray())
            {
                var at = $"{path}: $[{index}]";
                if (element.ValueKind != JsonValueKind.Object) throw new SitesFileException($"{at}: expected an object with \"id\" and \"address\", found {Kind(element)}");
                string? id = null, address = null;
                foreach (var property in element.EnumerateObject())
                {
                    switch (property.Name)
                    {
                        case "id": id = Text(property, $"{at}.id"); break;
                        case "address": address = Text(property, $"{at}.address"); break;
                        default: throw new SitesFileException($"{at}.{property.Name}: unknown property; a site has \"id\" and \"address\"");
                    }
                }
                if (id is null) throw new SitesFileException($"{at}: \"id\" is missing");
                if (address is null) throw new SitesFileException($"{at}: \"address\" is missing");
                if (id.Length == 0 || !id.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-'))
                    throw new SitesFileException($"{at}.id: '{id}' may hold only lower-case letters, digits and '-'");
                if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || uri.AbsolutePath != "/" || uri.Query.Length > 0)
                    throw new SitesFileException($"{at}.address: '{address}' is not an https address like https://127.0.0.1:7101 (mutual TLS on every hop; no path)");
                if (result.Any(s => s.Id == id)) throw new SitesFileException($"{at}.id: site '{id}' is listed twice");
                result.Add(new Site(id, uri));
                index++;
            }
            if (result.Count == 0) throw new SitesFileException($"{path}: $: names no site");
            return result;
        }
    }

    void ScheduleReload() => reloadTimer.Change(Debounce, Timeout.InfiniteTimeSpan);

    void Reload()
    {
        try
        {
            var loaded = Load(Path);
            if (loaded.SequenceEqual(sites)) return;
            sites = loaded;
            LoadedAt = DateTimeOffset.UtcNow;
            Log.Reloaded(logger, Path, loaded.Count, string.Join(", ", loaded.Select(s => s.Id)));
            Changed?.Invoke(loaded);
        }
        catch (SitesFileException e)
        {
            Log.ReloadRejected(logger, sites.Count, e.Message);
        }
    }

    static string Text(JsonProperty property, string at) =>
        property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : throw new SitesFileException($"{at}: expected a string, found {Kind(property.Value)}");

    static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    static string FirstSentence(string message) => message.Split(" Path:")[0].Split(" LineNumber:")[0].TrimEnd('.');

    public void Dispose()
    {
        watcher?.Dispose();
        reloadTimer.Dispose();
    }

    static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "sites: {Path}: {Count} sites ({Ids})")]
        public static partial void Loaded(ILogger logger, string path, int count, string ids);

        [LoggerMessage(2, LogLevel.Information, "sites reloaded from {Path}: {Count} sites ({Ids})")]
        public static partial void Reloaded(ILogger logger, string path, int count, string ids);

        [LoggerMessage(3, LogLevel.Warning, "sites file not reloaded, keeping the last good registry ({Count} sites): {Problem}")]
        public static partial void ReloadRejected(ILogger logger, int count, string problem);
    }
}
