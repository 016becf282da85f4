using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Midia.Hosting;

namespace Midia.Cli.Dev.Synth;

/// <summary>`midia dev synth`: synthetic FHIR R4 Bulk Data exports for several sites sharing one population (docs/DATA.md).</summary>
public static class SynthCommand
{
    public static Command Command()
    {
        var outDir = new Option<string>("--out") { Description = "Folder to write; each site gets DIR/<site>/<Type>.ndjson (existing site folders are replaced)", Required = true };
        var sites = new Option<string>("--sites") { Description = "Comma-separated site ids, e.g. erlangen,munich,practice", DefaultValueFactory = _ => "erlangen,munich,practice" };
        var patients = new Option<int>("--patients") { Description = "Patients per site", DefaultValueFactory = _ => 1000 };
        var seed = new Option<ulong>("--seed") { Description = "Seed: the same arguments give byte-identical files", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print the summary as one JSON document on stdout" };
        var command = new Command("synth", "Write realistic synthetic FHIR R4 NDJSON (breast and prostate cancer, multiple sclerosis, common conditions, MII consent) for sites that share part of one population")
        {
            outDir, sites, patients, seed, json,
        };
        command.SetAction(parse =>
        {
            var siteIds = CertsCommands.SiteIds(parse.GetValue(sites)!);
            if (siteIds.Count > 64) throw new CommandException("--sites names more than 64 sites");
            var perSite = parse.GetValue(patients);
            if (perSite < 1) throw new CommandException($"--patients must be at least 1, not {perSite}");
            Population population;
            try { population = new Population(parse.GetValue(seed), siteIds, perSite); }
            catch (ArgumentException e) { throw new CommandException(e.Message); }
            var summary = Generate(population, parse.GetValue(outDir)!);
            if (parse.GetValue(json)) Console.Out.WriteLine(summary.ToJson());
            Console.Error.WriteLine(summary.ToText());
            return 0;
        });
        return command;
    }

    /// <summary>Writes every site; a site's folder appears only once all its files are complete.</summary>
    public static SynthSummary Generate(Population population, string directory)
    {
        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        Directory.CreateDirectory(directory);
        var totals = new long[ResourceSinks.Types.Length];
        for (var site = 0; site < population.Sites.Count; site++)
        {
            var final = Path.Combine(directory, population.Sites[site]);
            var partial = Path.Combine(directory, "." + population.Sites[site] + ".partial");
            if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
            Directory.CreateDirectory(partial);
            long[] counts;
            try { counts = new SiteExport(population, site).Write(partial); }
            catch
            {
                Directory.Delete(partial, recursive: true); // nothing half-written stays behind
                throw;
            }
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
            Directory.Move(partial, final);
            for (var type = 0; type < totals.Length; type++) totals[type] += counts[type];
        }
        return new SynthSummary(Path.GetFullPath(directory), population.Sites.Count, totals, population.Sites.Count * ResourceSinks.Types.Length, clock.Elapsed.TotalSeconds,
            (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds, population.Seed);
    }
}

public sealed record SynthSummary(string Directory, int Sites, long[] Resources, int Files, double Seconds, double CpuSeconds, ulong Seed)
{
    public long Patients => Resources[0];
    public long Total => Resources.Sum();

    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var perType = string.Join(", ", ResourceSinks.Types.Select((t, i) => string.Create(c, $"{t} {Resources[i]:N0}")));
        return string.Create(c,
            $"synth: {Patients:N0} patients at {Sites} sites (seed {Seed}), {Total:N0} resources ({perType}) in {Files} files under {Directory}; {Seconds:F1} s ({CpuSeconds:F1} s CPU), {Patients / Math.Max(Seconds, 1e-9):N0} patients/s");
    }

    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("directory", Directory);
            json.WriteNumber("seed", Seed);
            json.WriteNumber("sites", Sites);
            json.WriteNumber("patients", Patients);
            json.WriteStartObject("resources");
            for (var i = 0; i < Resources.Length; i++) json.WriteNumber(ResourceSinks.Types[i], Resources[i]);
            json.WriteEndObject();
            json.WriteNumber("files", Files);
            json.WriteNumber("seconds", Math.Round(Seconds, 3));
            json.WriteNumber("cpuSeconds", Math.Round(CpuSeconds, 3));
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
