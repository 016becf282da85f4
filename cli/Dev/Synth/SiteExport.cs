namespace Midia.Cli.Dev.Synth;

/// <summary>
/// Writes one site's Bulk Data export: DIR/&lt;site&gt;/&lt;Type&gt;.ndjson. Patients are generated in
/// chunks on all cores and written in slot order, so the bytes do not depend on the thread
/// count. Nothing but the current chunks is held in memory.
/// </summary>
public sealed class SiteExport(Population population, int site)
{
    const int ChunkSize = 512;

    public long[] Write(string directory)
    {
        var shared = population.SharedAt(site);
        var files = ResourceSinks.Types
            .Select(type => new FileStream(Path.Combine(directory, type + ".ndjson"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            .ToArray();
        var counts = new long[files.Length];
        try
        {
            var catalogue = new NdjsonSink();
            MedicationCatalogue.Write(catalogue, population.Sites[site], legacySite: (site & 1) == 1);
            catalogue.DrainTo(files[ResourceSinks.MedicationFile]);
            // two sets of chunk buffers: the cores fill one while the other is written to disk
            var workers = Math.Max(2, Environment.ProcessorCount) * 2;
            var sets = new ResourceSinks[2][];
            var charts = new SiteChart[2][];
            for (var i = 0; i < 2; i++)
            {
                sets[i] = Enumerable.Range(0, workers).Select(_ => new ResourceSinks()).ToArray();
                charts[i] = sets[i].Select(s => new SiteChart(population, site, s)).ToArray();
            }
            var n = population.PatientsPerSite;
            var batches = (n + ChunkSize * workers - 1) / (ChunkSize * workers);
            void Generate(int batch)
            {
                var set = charts[batch % 2];
                Parallel.For(0, workers, w =>
                {
                    var from = (batch * workers + w) * ChunkSize;
                    var to = Math.Min(n, from + ChunkSize);
                    for (var slot = from; slot < to; slot++) WritePatient(set[w], slot, shared);
                });
            }
            Generate(0);
            for (var batch = 0; batch < batches; batch++)
            {
                var following = batch + 1;
                var next = following < batches ? Task.Run(() => Generate(following)) : Task.CompletedTask;
                var written = sets[batch % 2];
                Parallel.For(0, files.Length, type =>
                {
                    foreach (var sinks in written) sinks[type].DrainTo(files[type]);
                });
                next.GetAwaiter().GetResult();
            }
            var all = sets[0].Concat(sets[1]).ToArray();
            for (var type = 0; type < files.Length; type++)
                counts[type] = all.Sum(s => s[type].Count);
            counts[ResourceSinks.MedicationFile] = catalogue.Count;
        }
        finally
        {
            foreach (var file in files) file.Dispose();
        }
        return counts;
    }

    void WritePatient(SiteChart chart, int slot, long[] shared)
    {
        var person = Person.Create(population.Seed, population.Slot(site, slot, shared));
        chart.Start(person, slot);
        chart.Patient();
        switch (person.Cohort)
        {
            case Cohort.BreastCancer: BreastCancer.Write(chart); break;
            case Cohort.ProstateCancer: ProstateCancer.Write(chart); break;
            case Cohort.MultipleSclerosis: MultipleSclerosis.Write(chart); break;
        }
        CommonConditions.Write(chart);
        BroadConsent.Write(chart);
    }
}
