using System.CommandLine;
using System.Diagnostics;
using Midia.Node.Store;
using Midia.Hosting;

namespace Midia.Node.Import;

/// <summary>`midia-node import --db FILE PATH... [--strict]`: load a FHIR R4 export.</summary>
public static class ImportCommand
{
    public static Command Command()
    {
        var db = SiteDatabase.DbOption("The site database (SQLite file; created if missing). Also MIDIA_DB.");
        var strict = new Option<bool>("--strict") { Description = "Refuse a file holding resources of types this node does not use (Organization, Practitioner, ...) instead of skipping and counting them" };
        // Skipping is the default now; the old flag is still accepted so that existing scripts keep working.
        var skipUnknown = new Option<bool>("--skip-unknown") { Hidden = true };
        var linkageKey = new Option<string>("--linkage-key") { HelpName = "FILE", Description = "The sites' shared linkage secret (mode 600): set the imported patients' linkage pseudonyms now rather than at the next `serve`" };
        var paths = new Argument<string[]>("PATH") { Description = "FHIR R4 NDJSON (*.ndjson) or Bundle JSON (*.json) files, or folders of them", Arity = ArgumentArity.OneOrMore };
        var command = new Command("import", "Import a FHIR R4 export (Bulk Data NDJSON or Bundle JSON): each file completely or not at all; resources are upserted by type and id")
        {
            db, strict, skipUnknown, linkageKey, paths,
        };
        command.SetAction(parse => Run(
            Setting.Require(parse, db),
            parse.GetValue(paths) ?? [], !parse.GetValue(strict), Console.Out, Console.Error,
            parse.GetValue(linkageKey) is { } keyFile ? Linkage.LinkageKey.Load(keyFile) : null));
        return command;
    }

    /// <summary>
    /// Imports every file as one run (references between the files resolve in any order); problems go
    /// to <paramref name="error"/> as `file:line: message`, then one `error:` line (thrown as a
    /// CommandException) if any file was rejected. skipUnknown false is --strict.
    /// </summary>
    public static int Run(string dbPath, IReadOnlyList<string> paths, bool skipUnknown, TextWriter output, TextWriter error, Linkage.LinkageKey? linkageKey = null)
    {
        IReadOnlyList<string> files;
        try
        {
            files = FhirImporter.CollectFiles(paths);
        }
        catch (FileNotFoundException e)
        {
            throw new CommandException(e.Message);
        }
        if (files.Count == 0) throw new CommandException("no *.ndjson or *.json files found in " + string.Join(", ", paths));

        using var connection = SiteDatabase.Open(dbPath);
        using var importer = new FhirImporter(connection);
        var clock = Stopwatch.StartNew();
        var lastProgress = TimeSpan.Zero;
        importer.Progress = total =>
        {
            if (clock.Elapsed - lastProgress < TimeSpan.FromSeconds(1)) return;
            lastProgress = clock.Elapsed;
            error.WriteLine($"import: {total:N0} resources, {total / clock.Elapsed.TotalSeconds:N0} resources/s");
        };

        long resources = 0, facts = 0, skipped = 0, problems = 0, enteredInError = 0;
        int rejected = 0;
        var skippedByType = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var report in importer.ImportFiles(files, skipUnknown))
        {
            foreach (var problem in report.Problems) error.WriteLine(problem);
            resources += report.Resources;
            facts += report.Facts;
            skipped += report.Skipped;
            enteredInError += report.EnteredInError;
            foreach (var (type, count) in report.SkippedByType) skippedByType[type] = skippedByType.GetValueOrDefault(type) + count;
            problems += report.Problems.Count;
            if (!report.Applied) rejected++;
        }
        importer.Finish();
        // Pseudonyms only: the key and the identifiers it is applied to are never printed.
        var linked = linkageKey is null ? 0 : Linkage.LinkagePseudonym.FillMissing(connection, linkageKey);
        if (linked > 0) output.WriteLine($"linkage pseudonyms set for {linked:N0} patients");
        var seconds = clock.Elapsed.TotalSeconds;
        output.WriteLine($"imported {resources:N0} resources ({facts:N0} facts) from {files.Count - rejected} of {files.Count} files in {seconds:N1} s ({resources / Math.Max(seconds, 1e-3):N0} resources/s)"
            + (enteredInError > 0 ? $"; {enteredInError:N0} entered-in-error, kept out of every count" : ""));
        if (skipped > 0)
            output.WriteLine($"skipped {skipped:N0} resources of types this node does not use: {string.Join(", ", skippedByType.Select(t => $"{t.Key} {t.Value:N0}"))} (--strict refuses them)");
        if (rejected > 0)
            throw new CommandException($"{rejected} of {files.Count} files rejected with {problems} problems; nothing of those files was applied");
        return 0;
    }
}
