using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Unicode;
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
    // A `document` (e.g. an IPS summary) carries its resources as entries like a collection does.
    static readonly HashSet<string> BundleTypes = ["collection", "document", "transaction", "batch", "searchset"];

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
        mapping = new ResourceMapping();
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

    /// <summary>
    /// Imports one file on its own: its references (patients, Medications) must be in the file or
    /// already in the database. skipUnknown: resources of types the node does not use are skipped
    /// and counted instead of refusing the file.
    /// </summary>
    public ImportReport ImportFile(string path, bool skipUnknown = false) => Import(path, skipUnknown, mayDefer: false);

    /// <summary>
    /// Imports the files of one export run, in any order: a file whose only problems are references to
    /// a patient or a Medication that another file of the run brings is set aside (applied not at all)
    /// and tried again once the others are in; what still does not resolve is reported. Each file is
    /// still applied completely or not at all. Reports come back in the order of the files.
    /// </summary>
    public IReadOnlyList<ImportReport> ImportFiles(IReadOnlyList<string> files, bool skipUnknown = false)
    {
        var reports = new ImportReport?[files.Count];
        var waiting = new List<int>();
        for (int i = 0; i < files.Count; i++)
        {
            var report = Import(files[i], skipUnknown, mayDefer: true);
            if (report.Deferred) waiting.Add(i);
            else reports[i] = report;
        }
        for (bool progress = true; waiting.Count > 0 && progress;)
        {
            progress = false;
            foreach (var i in waiting.ToList())
            {
                var report = Import(files[i], skipUnknown, mayDefer: true);
                if (report.Deferred) continue;
                reports[i] = report;
                waiting.Remove(i);
                progress = true;
            }
        }
        foreach (var i in waiting) reports[i] = Import(files[i], skipUnknown, mayDefer: false);
        return reports!;
    }

    ImportReport Import(string path, bool skipUnknown, bool mayDefer)
    {
        DeferIndexesOnFirstLoad();
        var run = new FileRun(path, skipUnknown);
        long factsBefore = store.Facts;
        bool committed = false;
        using (var transaction = db.BeginTransaction())
        {
            try
            {
                try
                {
                    if (path.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase)) ReadNdjson(run);
                    else ReadJson(run);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    run.Problems.Add(new ImportProblem(path, 0, $"cannot read: {e.Message}"));
                }
                ResolvePendingMedications(run);
                if (run.Problems.Count == 0)
                {
                    SiteDatabase.BumpDataVersion(db, transaction);
                    transaction.Commit();
                    committed = true;
                }
            }
            finally
            {
                // Rolled back (a problem, or a database error on its way up): the caches may hold
                // pids and sids that exist no more.
                if (!committed) store.ForgetCaches();
            }
        }
        bool deferred = mayDefer && !committed && run.Unresolved == run.Problems.Count;
        var facts = committed ? store.Facts - factsBefore : 0;
        // In file order: a Medication missing at the end of the file is found only then.
        var problems = deferred ? [] : run.Problems.OrderBy(p => p.Line).ToList();
        return new ImportReport(path, committed ? run.Resources : 0, facts, run.Skipped, problems, run.Warnings)
        {
            SkippedByType = run.SkippedByType,
            EnteredInError = committed ? run.EnteredInError : 0,
            Deferred = deferred,
        };
    }

    sealed class FileRun(string path, bool skipUnknown)
    {
        public readonly string Path = path;
        public readonly bool SkipUnknown = skipUnknown;
        public readonly List<ImportProblem> Problems = [];
        public readonly List<ImportProblem> Warnings = [];
        public readonly SortedDictionary<string, long> SkippedByType = new(StringComparer.Ordinal);
        public long Resources, Skipped, EnteredInError;

        /// <summary>Problems that are only a reference to a patient or Medication not (yet) in the database.</summary>
        public int Unresolved;

        /// <summary>The Medication resources of this file, by id: statements later in the file resolve against them first.</summary>
        public readonly Dictionary<string, List<(long Sid, string Code, string? Display)>> Medications = new(StringComparer.Ordinal);

        /// <summary>Statements whose Medication was in neither the file so far nor the database: resolved at the end of the file.</summary>
        public readonly List<(MappedResource Resource, long Pid)> PendingMedications = [];
    }

    /// <summary>At the end of a file: a statement whose Medication came later in the file gets its codes now; one whose
    /// Medication is nowhere is a problem (which a run may clear by importing the file again after the others).</summary>
    void ResolvePendingMedications(FileRun run)
    {
        foreach (var (m, pid) in run.PendingMedications)
        {
            if (Medication(run, m.MedicationId!) is { } codings)
            {
                if (run.Problems.Count == 0) WriteMedicationFacts(m, pid, codings);
                continue;
            }
            m.Problem("medicationReference.reference", $"Medication/{m.MedicationId} is neither in this file, nor in the site database, nor in another file of this import");
            run.Problems.Add(m.Problems![^1]);
            run.Unresolved++;
        }
        run.PendingMedications.Clear();
    }

    List<(long Sid, string Code, string? Display)>? Medication(FileRun run, string id) =>
        run.Medications.TryGetValue(id, out var local) ? local : store.FindMedication(id);

    void WriteMedicationFacts(MappedResource m, long pid, List<(long Sid, string Code, string? Display)> codings)
    {
        var use = m.Medication!.Value;
        foreach (var (sid, code, display) in codings)
            store.Fact(pid, sid, code, use.Kind, use.Date, use.End, null, null, null, null, display, m.Type, m.Id);
        store.MedicationUse(m.Type, m.Id, m.MedicationId!, pid, use.Kind, use.Date, use.End);
    }

    /// <summary>
    /// Bulk Data NDJSON: one resource per line, read as bytes and parsed in place. This thread
    /// reads and maps; a second one writes to SQLite, in file order, batch by batch.
    /// </summary>
    void ReadNdjson(FileRun run)
    {
        mapping.BundleEntries = null;
        using var batches = new BlockingCollection<List<MappedResource>>(boundedCapacity: 4);
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            try
            {
                foreach (var batch in batches.GetConsumingEnumerable())
                    foreach (var resource in batch) Apply(run, resource);
            }
            catch
            {
                stop.Cancel();
                throw;
            }
        });
        try
        {
            var batch = new List<MappedResource>(BatchSize);
            foreach (var (line, number, tooLong) in Lines(run.Path))
            {
                var mapped = tooLong
                    ? MappedResource.Unreadable(new ImportProblem(run.Path, number, $"line longer than {MaxLineBytes >> 20} MiB: one resource per line is read up to that size; the line was skipped unread"))
                    : ReadLine(run, line, number);
                if (mapped is not null) batch.Add(mapped);
                if (batch.Count == BatchSize)
                {
                    batches.Add(batch, stop.Token);
                    batch = new List<MappedResource>(BatchSize);
                }
            }
            if (batch.Count > 0) batches.Add(batch, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // the writer failed: its exception follows
        }
        finally
        {
            batches.CompleteAdding();
            writer.GetAwaiter().GetResult();
        }
    }

    const int BatchSize = 256;

    /// <summary>
    /// The longest NDJSON line read (one resource). Longer lines are refused with their number and
    /// skipped without being held, so a hostile or broken file cannot make the node buffer it whole.
    /// </summary>
    public const int MaxLineBytes = 16 << 20;

    /// <summary>The largest Bundle or single-resource JSON file, which is parsed as one document; larger exports come as NDJSON.</summary>
    public const long MaxJsonFileBytes = 256L << 20;

    /// <summary>The lines of a file (without the newline), with their 1-based numbers; a line of MaxLineBytes or more comes empty, marked too long.</summary>
    static IEnumerable<(ReadOnlyMemory<byte> Line, int Number, bool TooLong)> Lines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var buffer = new byte[1 << 20];
        int filled = 0, number = 0;
        bool eof = false, skipping = false;
        while (!eof)
        {
            if (filled == buffer.Length)
            {
                if (buffer.Length < MaxLineBytes) Array.Resize(ref buffer, Math.Min(buffer.Length * 2, MaxLineBytes)); // a long line
                else
                {
                    // A line over the cap: reported once, the rest of it is dropped as it is read.
                    if (!skipping) yield return (ReadOnlyMemory<byte>.Empty, ++number, true);
                    skipping = true;
                    filled = 0;
                }
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
                    if (eof && start < filled && !skipping) yield return (buffer.AsMemory(start, filled - start), ++number, false);
                    if (eof) start = filled;
                    break;
                }
                // The caller is done with a line before asking for the next: the buffer can be reused.
                if (skipping) skipping = false; // the end of the over-long line
                else yield return (buffer.AsMemory(start, newline - start), ++number, false);
                start = newline + 1;
            }
            Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
            filled -= start;
        }
    }

    MappedResource? ReadLine(FileRun run, ReadOnlyMemory<byte> line, int number)
    {
        if (number == 1 && line.Span.StartsWith("\uFEFF"u8)) line = line[3..];
        if (line.Span.Trim(" \t\r"u8).IsEmpty) return null;
        if (!Utf8.IsValid(line.Span))
            return MappedResource.Unreadable(new ImportProblem(run.Path, number, $"not valid UTF-8 at column {FirstInvalidUtf8(line.Span) + 1}: FHIR JSON is UTF-8"));
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            return MappedResource.Unreadable(new ImportProblem(run.Path, number, $"malformed JSON at column {e.BytePositionInLine + 1}: {FirstSentence(e.Message)}"));
        }
        using (document) return Map(run, document.RootElement, number, "", null);
    }

    /// <summary>The offset of the first byte that does not start or continue a valid UTF-8 sequence.</summary>
    static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        var at = 0;
        while (at < bytes.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes[at..], out _, out var consumed) != System.Buffers.OperationStatus.Done) return at;
            at += consumed;
        }
        return at;
    }

    /// <summary>
    /// System.Text.Json parses an escaped lone surrogate ("\ud800") and only refuses it when the
    /// string is read: that is bad input, reported like any other, not a crash.
    /// </summary>
    static bool IsUnreadableText(InvalidOperationException e) => e.TargetSite?.Module.Assembly == typeof(JsonDocument).Assembly;

    const string UnreadableText = "a string or field name holds an escaped lone UTF-16 surrogate (\\ud800-\\udfff), which is not text";

    static string FirstSentence(string message)
    {
        var at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (at > 0 ? message[..at] : message).TrimEnd(' ', '.');
    }

    /// <summary>A Bundle (collection, transaction, batch, searchset) or a single resource.</summary>
    void ReadJson(FileRun run)
    {
        mapping.BundleEntries = null;
        var size = new FileInfo(run.Path).Length;
        if (size > MaxJsonFileBytes)
        {
            run.Problems.Add(new ImportProblem(run.Path, 0, $"{size >> 20} MiB is over the {MaxJsonFileBytes >> 20} MiB a JSON file is read whole; export as NDJSON (one resource per line) instead"));
            return;
        }
        var bytes = File.ReadAllBytes(run.Path);
        if (!Utf8.IsValid(bytes))
        {
            var at = FirstInvalidUtf8(bytes);
            var lineStart = System.Array.LastIndexOf(bytes, (byte)'\n', Math.Max(at - 1, 0)) + 1;
            run.Problems.Add(new ImportProblem(run.Path, bytes.AsSpan(0, at).Count((byte)'\n') + 1, $"not valid UTF-8 at column {at - lineStart + 1}: FHIR JSON is UTF-8"));
            return;
        }
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
            try
            {
                if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("resourceType", out var rt) && rt.ValueKind == JsonValueKind.String && rt.ValueEquals("Bundle"))
                    Bundle(run, root);
                else Apply(run, Map(run, root, 0, "", null));
            }
            catch (InvalidOperationException e) when (IsUnreadableText(e))
            {
                run.Problems.Add(new ImportProblem(run.Path, 0, UnreadableText));
            }
        }
    }

    void Bundle(FileRun run, JsonElement bundle)
    {
        var type = bundle.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (type is null || !BundleTypes.Contains(type))
        {
            run.Problems.Add(new ImportProblem(run.Path, 0, $"Bundle type: '{type}' is not importable (collection, document, transaction, batch or searchset)"));
            return;
        }
        if (!bundle.TryGetProperty("entry", out var entries) || entries.ValueKind != JsonValueKind.Array)
        {
            if (entries.ValueKind != JsonValueKind.Undefined) run.Problems.Add(new ImportProblem(run.Path, 0, "entry: expected an array"));
            return;
        }
        // Every entry's fullUrl first: references by urn:uuid may point forwards.
        var entriesByUrl = new Dictionary<string, (string Type, string Id)>(StringComparer.Ordinal);
        foreach (var entry in entries.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("resource", out var resource) || resource.ValueKind != JsonValueKind.Object) continue;
            var fullUrl = entry.TryGetProperty("fullUrl", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
            if (fullUrl is null || !resource.TryGetProperty("resourceType", out var rt) || rt.ValueKind != JsonValueKind.String) continue;
            var id = resource.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString()
                : fullUrl.StartsWith("urn:uuid:", StringComparison.Ordinal) ? fullUrl["urn:uuid:".Length..] : null;
            if (id is not null) entriesByUrl[fullUrl] = (rt.GetString()!, id);
        }
        mapping.BundleEntries = entriesByUrl;
        // Patients and Medications first: a transaction's entries may refer to ones that come later.
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
                bool first = resource.ValueKind == JsonValueKind.Object && resource.TryGetProperty("resourceType", out var rt)
                    && rt.ValueKind == JsonValueKind.String && (rt.ValueEquals("Patient") || rt.ValueEquals("Medication"));
                if (first != (pass == 0)) continue;
                var fullUrl = entry.TryGetProperty("fullUrl", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
                var fallbackId = fullUrl is not null && fullUrl.StartsWith("urn:uuid:", StringComparison.Ordinal) ? fullUrl["urn:uuid:".Length..] : null;
                Apply(run, Map(run, resource, 0, path + ".resource.", fallbackId));
            }
        }
        mapping.BundleEntries = null;
    }

    /// <summary>Reads one resource (no database involved).</summary>
    MappedResource Map(FileRun run, JsonElement resource, int line, string jsonPath, string? fallbackId)
    {
        try
        {
            return MapResource(run, resource, line, jsonPath, fallbackId);
        }
        catch (InvalidOperationException e) when (IsUnreadableText(e))
        {
            return MappedResource.Unreadable(new ImportProblem(run.Path, line, $"{Where(jsonPath)}{UnreadableText}"));
        }
    }

    MappedResource MapResource(FileRun run, JsonElement resource, int line, string jsonPath, string? fallbackId)
    {
        if (resource.ValueKind != JsonValueKind.Object)
            return MappedResource.Unreadable(new ImportProblem(run.Path, line, $"{Where(jsonPath)}expected a FHIR resource (a JSON object)"));
        if (!resource.TryGetProperty("resourceType", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            return MappedResource.Unreadable(new ImportProblem(run.Path, line, $"{Where(jsonPath + "resourceType")}missing or not a string"));
        var type = typeElement.GetString()!;
        if (!ResourceMapping.IsSupported(type))
        {
            var id = resource.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : fallbackId;
            var problem = new ImportProblem(run.Path, line, $"{type}{(id is null ? "" : "/" + id)}{(jsonPath.Length > 0 ? " " + jsonPath.TrimEnd('.') : "")}: {type} is a resource type this node does not use{(run.SkipUnknown ? ", skipped" : " (refused with --strict; without it, skipped and counted)")}");
            return run.SkipUnknown ? MappedResource.Skipped(problem, type) : MappedResource.Unreadable(problem);
        }
        return mapping.Map(resource, type, fallbackId, run.Path, line, jsonPath);
    }

    /// <summary>Writes one mapped resource: resolves its patient, then upserts it (in file order).</summary>
    void Apply(FileRun run, MappedResource m)
    {
        if (m.Warning is { } warning)
        {
            run.Warnings.Add(warning);
            run.Skipped++;
            run.SkippedByType[m.SkippedType!] = run.SkippedByType.GetValueOrDefault(m.SkippedType!) + 1;
            return;
        }
        if (m.Type.Length == 0)
        {
            run.Problems.AddRange(m.Problems!);
            return;
        }
        run.Resources++;
        if ((++resourcesSoFar & 4095) == 0) Progress?.Invoke(resourcesSoFar);
        if (m.Id.Length == 0)
        {
            run.Problems.AddRange(m.Problems!);
            return;
        }
        if (m.MedicationCodes is { } medicationCodes)
        {
            // A Medication: no patient; the statements of this file (and later files) take its codes.
            if (m.Problems is not null) { run.Problems.AddRange(m.Problems); return; }
            var codings = medicationCodes.Select(c => (store.SystemId(c.System), c.Code, c.Display)).Distinct().ToList();
            run.Medications[m.Id] = codings;
            if (run.Problems.Count == 0) store.ReplaceMedication(m.Id, codings);
            if (m.EnteredInError) run.EnteredInError++;
            return;
        }
        long? pid = null;
        if (m.Patient is PatientRow p)
            // Upserted even with problems, so that later lines do not report it missing as well.
            pid = store.UpsertPatient(m.Id, p.Sex, p.Birth, p.Deceased, p.DeceasedDate, p.Kvnr, p.Family, p.Given);
        else if (m.PatientId is not null)
        {
            pid = store.FindPatient(m.PatientId);
            if (pid is null)
            {
                m.Problem(m.PatientPath, $"Patient/{m.PatientId} is neither in the site database nor earlier in this file");
                if (m.Problems!.Count == 1) run.Unresolved++;
            }
        }
        if (m.Problems is not null) run.Problems.AddRange(m.Problems);
        // Once the file has a problem, nothing of it will be kept: only patients (above) still matter.
        if (pid is not long patient || m.Patient is not null) return;
        if (m.MedicationId is { } medicationId && m.Problems is null && !m.EnteredInError && Medication(run, medicationId) is null)
        {
            // Its Medication may come later in this file: decided at the end of the file.
            run.PendingMedications.Add((m, patient));
            if (run.Problems.Count > 0) return;
        }
        if (run.Problems.Count > 0) return;

        if (m.Type == "Consent")
        {
            var source = $"Consent/{m.Id}";
            store.ReplaceConsent(m.Id, source);
            if (m.ConsentActive)
                foreach (var (policy, permit, start, end) in m.Provisions) store.Provision(patient, policy, permit, start, end, source);
            return;
        }
        store.ReplaceResource(m.Type, m.Id);
        if (m.EnteredInError)
        {
            run.EnteredInError++;
            return;
        }
        foreach (var f in m.Facts)
            store.Fact(patient, store.SystemId(f.Code.System), f.Code.Code, f.Kind, f.Date, f.End, f.Number, f.Unit,
                f.Value is Coding v ? store.SystemId(v.System) : null, f.Value?.Code, f.Display, m.Type, m.Id, f.Value?.Display);
        foreach (var (name, c) in m.Attributes) store.Attribute(m.Type, m.Id, name, store.SystemId(c.System), c.Code);
        foreach (var (name, targetType, targetId) in m.Links) store.Link(m.Type, m.Id, name, targetType, targetId);
        if (m.MedicationId is { } drug && Medication(run, drug) is { } drugCodes) WriteMedicationFacts(m, patient, drugCodes);
    }

    static string Where(string jsonPath) => jsonPath.Length > 0 ? jsonPath.TrimEnd('.') + ": " : "";

    /// <summary>
    /// A first load into empty fact tables inserts into the base tables only and builds their
    /// query indexes once at the end (Finish): one sort instead of millions of random index
    /// inserts. The upsert indexes stay. Should the process die before, opening the database
    /// creates the missing indexes from the schema.
    /// </summary>
    void DeferIndexesOnFirstLoad()
    {
        if (checkedFirstLoad) return;
        checkedFirstLoad = true;
        using var command = db.CreateCommand();
        command.CommandText = "SELECT NOT EXISTS (SELECT 1 FROM fact) AND NOT EXISTS (SELECT 1 FROM attribute)";
        if ((long)command.ExecuteScalar()! == 0) return;
        command.CommandText = """
            SELECT name, sql FROM sqlite_master
            WHERE type = 'index' AND tbl_name IN ('fact', 'attribute') AND sql IS NOT NULL
              AND name NOT IN ('fact_source', 'attribute_source')
            ORDER BY name
            """;
        var indexes = new List<(string Name, string Sql)>();
        using (var reader = command.ExecuteReader())
            while (reader.Read()) indexes.Add((reader.GetString(0), reader.GetString(1)));
        foreach (var (name, _) in indexes) SiteDatabase.Execute(db, $"DROP INDEX \"{name}\"");
        deferredIndexes = [.. indexes.Select(i => i.Sql)];
    }

    bool checkedFirstLoad;
    List<string>? deferredIndexes;

    /// <summary>Builds the indexes a first load deferred. Part of the import's time; Dispose calls it too.</summary>
    public void Finish()
    {
        if (deferredIndexes is null) return;
        // Another connection opening the database meanwhile (a serving node) may have made them already.
        foreach (var sql in deferredIndexes) SiteDatabase.Execute(db, IfNotExists(sql));
        deferredIndexes = null;
    }

    /// <summary>sqlite_master keeps CREATE INDEX without its IF NOT EXISTS; put it back.</summary>
    static string IfNotExists(string createIndex) =>
        System.Text.RegularExpressions.Regex.Replace(createIndex, "^CREATE (UNIQUE )?INDEX (?!IF NOT EXISTS)", "CREATE $1INDEX IF NOT EXISTS ",
            System.Text.RegularExpressions.RegexOptions.IgnoreCase);

    public void Dispose()
    {
        try
        {
            Finish();
        }
        finally
        {
            store.Dispose();
        }
    }
}
