using System.Diagnostics;
using System.Text;
using Midia.Node.Import;
using Midia.Node.Store;

namespace Midia.Bench.Node;

/// <summary>
/// `midia-bench import --patients N`: writes a Bulk-Data-shaped FHIR export (a file per type) of
/// N patients with about 13 resources each, imports it into a fresh site database and prints
/// resources/s; then imports it again (every resource an upsert of an existing one).
/// </summary>
public static class ImportBench
{
    /// <summary>The aim of the import issue: a first load of at least this many resources per second.</summary>
    const double TargetPerSecond = 50_000;

    public static int Run(int patients, string? keepDir)
    {
        Console.WriteLine(Table(patients, keepDir));
        return 0;
    }

    /// <summary>The markdown table BENCHMARKS.md shows: first import and re-import of <paramref name="patients"/> patients, database size.</summary>
    public static string Table(int patients, string? keepDir, bool reimport = true)
    {
        var dir = keepDir ?? Path.Combine(Path.GetTempPath(), "midia-import-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            var clock = Stopwatch.StartNew();
            long written = Write(dir, patients);
            var ndjson = Size(dir);
            Console.Error.WriteLine($"import bench: generated {written:N0} resources for {patients:N0} patients in {clock.Elapsed.TotalSeconds:N1} s ({ndjson})");

            var table = new StringBuilder();
            table.AppendLine($"{patients:N0} patients, {written:N0} resources ({ndjson}), one run each.");
            table.AppendLine();
            table.AppendLine("| run | patients | resources | facts | wall | resources/s | resources per CPU second | vs 50,000/s aim |");
            table.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
            var dbPath = Path.Combine(dir, "site.db");
            for (int round = 1; round <= (reimport ? 2 : 1); round++)
            {
                using var db = SiteDatabase.Open(dbPath);
                using var importer = new FhirImporter(db);
                clock.Restart();
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                long resources = 0, facts = 0;
                foreach (var file in FhirImporter.CollectFiles([dir]))
                {
                    var report = importer.ImportFile(file);
                    if (!report.Applied) throw new InvalidOperationException(string.Join("\n", report.Problems.Take(5)));
                    resources += report.Resources;
                    facts += report.Facts;
                }
                importer.Finish(); // a first load builds its query indexes here
                var seconds = clock.Elapsed.TotalSeconds;
                // The machine is shared: CPU time shows what the import itself costs.
                var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                table.AppendLine($"| {(round == 1 ? "first import" : "re-import (all upserts)")} | {patients:N0} | {resources:N0} | {facts:N0} | {seconds:N1} s | {resources / seconds:N0} | {resources / cpuSeconds:N0} | {resources / seconds / TargetPerSecond:0.00}x |");
            }
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            table.AppendLine();
            table.AppendLine($"Database after import: {new FileInfo(dbPath).Length / 1e6:N0} MB ({new FileInfo(dbPath).Length / (double)patients / 1024:N1} KiB per patient).");
            return table.ToString();
        }
        finally
        {
            if (keepDir is null) Directory.Delete(dir, recursive: true);
        }
    }

    static string Size(string dir) => $"{Directory.EnumerateFiles(dir).Sum(f => new FileInfo(f).Length) / 1e6:N0} MB NDJSON";

    static readonly string[] Diagnoses = ["C50.4", "C50.9", "D05.1", "C61", "G35", "I10", "E11.9", "J45.9", "M54.5", "F32.1", "K21.9", "E78.0"];
    static readonly string[] Labs = ["2857-1", "6875-9", "2039-6", "718-7", "2345-7", "2160-0"];
    static readonly string[] Drugs = ["L02BA01", "L02BG03", "L01FD01", "L01XC03", "L02AE02", "L04AA36", "L04AG08", "C09AA05", "A10BA02"];
    static readonly string[] Procedures = ["5-870", "5-872", "8-52", "5-604", "1-632", "3-222"];

    /// <summary>Deterministic pseudo-random export; shaped like the MII profiles, not clinically meaningful.</summary>
    static long Write(string dir, int patients)
    {
        var random = new Random(42);
        var types = new[] { "Patient", "Condition", "Observation", "MedicationStatement", "Procedure", "ImagingStudy", "Consent" };
        var writers = types.ToDictionary(t => t, t => new StreamWriter(Path.Combine(dir, t + ".ndjson"), false, new UTF8Encoding(false), 1 << 16));
        long n = 0;
        var line = new StringBuilder(1024);
        for (int p = 1; p <= patients; p++)
        {
            var pid = $"pat-{p}";
            var female = random.Next(2) == 0;
            var birth = new DateOnly(1930 + random.Next(75), 1 + random.Next(12), 1 + random.Next(28));
            line.Clear().Append($$$"""{"resourceType":"Patient","id":"{{{pid}}}","meta":{"profile":["https://www.medizininformatik-initiative.de/fhir/core/modul-person/StructureDefinition/Patient"]},"identifier":[{"use":"official","type":{"coding":[{"system":"http://fhir.de/CodeSystem/identifier-type-de-basis","code":"GKV"}]},"system":"http://fhir.de/sid/gkv/kvid-10","value":"{{{(char)('A' + p % 26)}}}{{{p % 1000000000:D9}}}"}],"name":[{"use":"official","family":"Family{{{p}}}","given":["Given{{{p}}}"]}],"gender":"{{{(female ? "female" : "male")}}}","birthDate":"{{{birth:yyyy-MM-dd}}}"}""");
            writers["Patient"].WriteLine(line); n++;

            var subject = $$$"""{"reference":"Patient/{{{pid}}}"}""";
            for (int c = 0; c < 3; c++)
            {
                var code = Diagnoses[random.Next(Diagnoses.Length)];
                writers["Condition"].WriteLine($$$"""{"resourceType":"Condition","id":"cond-{{{p}}}-{{{c}}}","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]},"code":{"coding":[{"system":"http://fhir.de/CodeSystem/bfarm/icd-10-gm","version":"2024","code":"{{{code}}}","display":"Diagnosis {{{code}}}"}]},"subject":{{{subject}}},"onsetDateTime":"{{{Date(random)}}}","recordedDate":"{{{Date(random)}}}T10:00:00+01:00"}""");
                n++;
            }
            for (int o = 0; o < 4; o++)
            {
                var code = Labs[random.Next(Labs.Length)];
                writers["Observation"].WriteLine($$$"""{"resourceType":"Observation","id":"obs-{{{p}}}-{{{o}}}","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"{{{code}}}","display":"Lab {{{code}}}"}]},"subject":{{{subject}}},"effectiveDateTime":"{{{Date(random)}}}T08:30:00+01:00","valueQuantity":{"value":{{{random.Next(1, 5000) / 10.0}}},"unit":"ng/mL","system":"http://unitsofmeasure.org","code":"ng/mL"}}""");
                n++;
            }
            writers["Observation"].WriteLine($$$"""{"resourceType":"Observation","id":"tnm-{{{p}}}","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"21908-9"}]},"subject":{{{subject}}},"effectiveDateTime":"{{{Date(random)}}}","valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"1222806003"}]},"component":[{"code":{"coding":[{"system":"http://snomed.info/sct","code":"399504009"}]},"valueCodeableConcept":{"coding":[{"system":"https://www.uicc.org/resources/tnm","code":"T{{{random.Next(1, 5)}}}"}]}},{"code":{"coding":[{"system":"http://snomed.info/sct","code":"399534004"}]},"valueCodeableConcept":{"coding":[{"system":"https://www.uicc.org/resources/tnm","code":"N{{{random.Next(0, 3)}}}"}]}}]}""");
            n++;
            for (int m = 0; m < 2; m++)
            {
                var code = Drugs[random.Next(Drugs.Length)];
                writers["MedicationStatement"].WriteLine($$$"""{"resourceType":"MedicationStatement","id":"med-{{{p}}}-{{{m}}}","status":"active","medicationCodeableConcept":{"coding":[{"system":"http://fhir.de/CodeSystem/bfarm/atc","code":"{{{code}}}"}]},"subject":{{{subject}}},"effectivePeriod":{"start":"{{{Date(random)}}}","end":"{{{Date(random)}}}"}}""");
                n++;
            }
            var ops = Procedures[random.Next(Procedures.Length)];
            writers["Procedure"].WriteLine($$$"""{"resourceType":"Procedure","id":"proc-{{{p}}}","status":"completed","code":{"coding":[{"system":"http://fhir.de/CodeSystem/bfarm/ops","code":"{{{ops}}}"}]},"subject":{{{subject}}},"performedDateTime":"{{{Date(random)}}}"}""");
            n++;
            if (p % 5 == 0)
            {
                writers["ImagingStudy"].WriteLine($$$"""{"resourceType":"ImagingStudy","id":"img-{{{p}}}","status":"available","subject":{{{subject}}},"started":"{{{Date(random)}}}T09:00:00+01:00","modality":[{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"MR"}],"description":"MRI head","series":[{"uid":"1.2.3.{{{p}}}","modality":{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"MR"}}]}""");
                n++;
            }
            writers["Consent"].WriteLine($$$"""{"resourceType":"Consent","id":"consent-{{{p}}}","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"research"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"57016-8"}]}],"patient":{{{subject}}},"dateTime":"2020-01-01","provision":{"type":"deny","period":{"start":"2020-01-01","end":"2050-01-01"},"provision":[{"type":"permit","period":{"start":"2020-01-01","end":"2050-01-01"},"code":[{"coding":[{"system":"urn:oid:2.16.840.1.113883.3.1937.777.24.5.3","code":"2.16.840.1.113883.3.1937.777.24.5.3.7"}]}]},{"type":"permit","period":{"start":"2020-01-01","end":"2050-01-01"},"code":[{"coding":[{"system":"urn:oid:2.16.840.1.113883.3.1937.777.24.5.3","code":"2.16.840.1.113883.3.1937.777.24.5.3.8"}]}]}]}}""");
            n++;
        }
        foreach (var w in writers.Values) w.Dispose();
        return n;
    }

    static string Date(Random random) => new DateOnly(2005, 1, 1).AddDays(random.Next(7000)).ToString("yyyy-MM-dd");
}
