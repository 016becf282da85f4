using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Midia.Node.Store;

namespace Midia.Node.Import;

/// <summary>
/// Loads a site's FHIR R4 export (Bulk Data NDJSON or Bundle JSON) into the site database.
/// Each file is one transaction: a file with any problem is reported completely and applied not
/// at all; a good file is applied and bumps the data version. Resources are upserted by type + id.
/// </summary>
public sealed class FhirImporter : IDisposable
{
    static readonly HashSet<string> BundleTypes = ["collection", "transaction", "batch", "searchset"];

    readonly SqliteConnection db;
    readonly SiteWrites store;
    readonly ResourceMapping mapping;
    long resourcesSoFar;

    public FhirImporter(SqliteConnection db)
    {
        this.db = db;
        // A large import is write-bound: a big page cache keeps the fact indexes in memory.
        SiteDatabase.Execute(db, "PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY;");
        store = new SiteWrites(db);
        mapping = new ResourceMapping(store);
    }

    /// <summary>Called every few thousand resources with the total imported by this importer so far.</summary>
    public Action<long>? Progress { get; set; }

    /// <summary>The import files under the given files and folders (recursive), Patient files first.</summary>
    public static IReadOnlyList<string> CollectFiles(IEnumerable<string> paths)
    {
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
                files.AddRange(Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                    .Where(IsImportFile)
                    .Order(StringComparer.Ordinal));
            else if (File.Exists(path)) files.Add(path);
            else throw new FileNotFoundException($"no such file or folder: {path}", path);
        }
        // Other resources refer to patients, so patients come first (the sort is stable).
        return [.. files.OrderBy(f => Path.GetFileName(f).StartsWith("Patient", StringComparison.OrdinalIgnoreCase) ? 0 : 1)];
    }

    static bool IsImportFile(string path) =>
        path.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    public ImportReport ImportFile(string path, bool skipUnknown = false)
    {
        var run = new FileRun(path, skipUnknown);
        long factsBefore = store.Facts;
        using (var transaction = db.BeginTransaction())
        {
            try
            {
                if (path.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase)) ReadNdjson(run);
                else ReadJson(run);
            }
            catch (IOException e)
            {
                run.Problems.Add(new ImportProblem(path, 0, $"cannot read: {e.Message}"));
            }
            catch (UnauthorizedAccessException e)
            {
                run.Problems.Add(new ImportProblem(path, 0, $"cannot read: {e.Message}"));
            }
            if (run.Problems.Count == 0)
            {
                SiteDatabase.BumpDataVersion(db, transaction);
                transaction.Commit();
            }
            else
            {
                transaction.Rollback();
                store.ForgetCaches();
            }
        }
        var facts = run.Problems.Count == 0 ? store.Facts - factsBefore : 0;
        return new ImportReport(path, run.Problems.Count == 0 ? run.Resources : 0, facts, run.Skipped, run.Problems, run.Warnings);
    }

    sealed class FileRun(string path, bool skipUnknown)
    {
        public readonly string Path = path;
        public readonly bool SkipUnknown = skipUnknown;
        public readonly List<ImportProblem> Problems = [];
        public readonly List<ImportProblem> Warnings = [];
        public long Resources, Skipped;
    }

    /// <summary>Bulk Data NDJSON: one resource per line; lines are read as bytes and parsed in place.</summary>
    void ReadNdjson(FileRun run)
    {
        mapping.BundlePatients = null;
        using var stream = new FileStream(run.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int filled = 0, lineNumber = 0;
            bool eof = false;
            while (!eof)
            {
                if (filled == buffer.Length)
                {
                    // One line longer than the buffer: grow it.
                    var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    Buffer.BlockCopy(buffer, 0, bigger, 0, filled);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                int read = stream.Read(buffer, filled, buffer.Length - filled);
                if (read == 0) eof = true;
                filled += read;
                int start = 0;
                while (true)
                {
                    int newline = Array.IndexOf(buffer, (byte)'\n', start, filled - start);
                    if (newline < 0)
                    {
                        if (eof && start < filled) Line(run, buffer.AsMemory(start, filled - start), ++lineNumber);
                        if (eof) start = filled;
                        break;
                    }
                    Line(run, buffer.AsMemory(start, newline - start), ++lineNumber);
                    start = newline + 1;
                }
                Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
                filled -= start;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    void Line(FileRun run, ReadOnlyMemory<byte> line, int lineNumber)
    {
        var span = line.Span;
        if (lineNumber == 1 && span.StartsWith("\uFEFF"u8)) { line = line[3..]; span = line.Span; }
        if (span.Trim(" \t\r"u8).IsEmpty) return;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            run.Problems.Add(new ImportProblem(run.Path, lineNumber, $"malformed JSON at column {e.BytePositionInLine + 1}: {FirstSentence(e.Message)}"));
            return;
        }
        using (document) Resource(run, document.RootElement, lineNumber, "", null);
    }

    static string FirstSentence(string message)
    {
        var at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (at > 0 ? message[..at] : message).TrimEnd(' ', '.');
    }

    /// <summary>A Bundle (collection, transaction, batch, searchset) or a single resource.</summary>
    void ReadJson(FileRun run)
    {
        mapping.BundlePatients = null;
        var bytes = File.ReadAllBytes(run.Path);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            run.Problems.Add(new ImportProblem(run.Path, (int)(e.LineNumber ?? 0) + 1, $"malformed JSON at column {e.BytePositionInLine + 1}: {FirstSentence(e.Message)}"));
            return;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("resourceType", out var rt) && rt.ValueKind == JsonValueKind.String && rt.ValueEquals("Bundle"))
                Bundle(run, root);
            else Resource(run, root, 0, "", null);
        }
    }

    void Bundle(FileRun run, JsonElement bundle)
    {
        var type = bundle.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (type is null || !BundleTypes.Contains(type))
        {
            run.Problems.Add(new ImportProblem(run.Path, 0, $"Bundle type: '{type}' is not importable (collection, transaction, batch or searchset)"));
            return;
        }
        if (!bundle.TryGetProperty("entry", out var entries) || entries.ValueKind != JsonValueKind.Array)
        {
            if (entries.ValueKind != JsonValueKind.Undefined) run.Problems.Add(new ImportProblem(run.Path, 0, "entry: expected an array"));
            return;
        }
        var patients = new Dictionary<string, string>(StringComparer.Ordinal);
        mapping.BundlePatients = patients;
        // Patients first: a transaction's entries may refer to a patient that comes later.
        for (int pass = 0; pass < 2; pass++)
        {
            int i = 0;
            foreach (var entry in entries.EnumerateArray())
            {
                var path = $"entry[{i++}]";
                if (entry.ValueKind != JsonValueKind.Object)
                {
                    if (pass == 0) run.Problems.Add(new ImportProblem(run.Path, 0, $"{path}: expected an object"));
                    continue;
                }
                if (!entry.TryGetProperty("resource", out var resource)) continue; // e.g. a DELETE request
                bool isPatient = resource.ValueKind == JsonValueKind.Object && resource.TryGetProperty("resourceType", out var rt)
                    && rt.ValueKind == JsonValueKind.String && rt.ValueEquals("Patient");
                if (isPatient != (pass == 0)) continue;
                var fullUrl = entry.TryGetProperty("fullUrl", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
                var fallbackId = fullUrl is not null && fullUrl.StartsWith("urn:uuid:", StringComparison.Ordinal) ? fullUrl["urn:uuid:".Length..] : null;
                var id = Resource(run, resource, 0, path + ".resource.", fallbackId);
                if (isPatient && fullUrl is not null && id is not null) patients[fullUrl] = id;
            }
        }
        mapping.BundlePatients = null;
    }

    /// <summary>Imports one resource; returns its id (if it has one).</summary>
    string? Resource(FileRun run, JsonElement resource, int lineNumber, string jsonPath, string? fallbackId)
    {
        if (resource.ValueKind != JsonValueKind.Object)
        {
            run.Problems.Add(new ImportProblem(run.Path, lineNumber, $"{Where(jsonPath)}expected a FHIR resource (a JSON object)"));
            return null;
        }
        if (!resource.TryGetProperty("resourceType", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
        {
            run.Problems.Add(new ImportProblem(run.Path, lineNumber, $"{Where(jsonPath + "resourceType")}missing or not a string"));
            return null;
        }
        var type = typeElement.GetString()!;
        var id = resource.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : fallbackId;
        if (!ResourceMapping.IsSupported(type))
        {
            var problem = new ImportProblem(run.Path, lineNumber, $"{type}{(id is null ? "" : "/" + id)}{(jsonPath.Length > 0 ? " " + jsonPath.TrimEnd('.') : "")}: unsupported resource type {type}{(run.SkipUnknown ? ", skipped" : " (--skip-unknown skips it)")}");
            if (run.SkipUnknown) { run.Warnings.Add(problem); run.Skipped++; }
            else run.Problems.Add(problem);
            return id;
        }
        mapping.Import(resource, type, fallbackId, run.Problems, run.Path, lineNumber, jsonPath);
        run.Resources++;
        if ((++resourcesSoFar & 4095) == 0) Progress?.Invoke(resourcesSoFar);
        return id;
    }

    static string Where(string jsonPath) => jsonPath.Length > 0 ? jsonPath.TrimEnd('.') + ": " : "";

    public void Dispose() => store.Dispose();
}
