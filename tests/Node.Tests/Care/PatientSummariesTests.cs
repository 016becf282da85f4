using Midia.Node.Care;
using Midia.Node.Store;
using Midia.Node.Tests.Import;

namespace Midia.Node.Tests.Care;

/// <summary>What a node extracts for a patient's summary: every fact, in its IPS section, with dates, values and coded values.</summary>
public sealed class PatientSummariesTests : IDisposable
{
    readonly SiteFixture site = new();

    public void Dispose() => site.Dispose();

    const string Bundle = """
        {"resourceType":"Bundle","type":"collection","entry":[
          {"resource":{"resourceType":"Patient","id":"p1","gender":"male","birthDate":"1950-01-01"}},
          {"resource":{"resourceType":"Patient","id":"p2","gender":"male","birthDate":"1951-01-01"}},
          {"resource":{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"onsetDateTime":"2018-02-03",
            "code":{"coding":[{"system":"http://fhir.de/CodeSystem/dimdi/icd-10-gm","code":"C61","display":"Prostatakarzinom"}]}}},
          {"resource":{"resourceType":"Observation","id":"psa1","status":"final","subject":{"reference":"Patient/p1"},"effectiveDateTime":"2018-01-15",
            "code":{"coding":[{"system":"http://loinc.org","code":"2857-1","display":"PSA"}]},"valueQuantity":{"value":12.5,"unit":"ng/mL","code":"ng/mL"}}},
          {"resource":{"resourceType":"Observation","id":"psa2","status":"final","subject":{"reference":"Patient/p1"},"effectiveDateTime":"2019-01-15",
            "code":{"coding":[{"system":"http://loinc.org","code":"2857-1","display":"PSA"}]},"valueQuantity":{"value":0.1,"unit":"ng/mL","code":"ng/mL"}}},
          {"resource":{"resourceType":"Observation","id":"ct","status":"final","subject":{"reference":"Patient/p1"},"effectiveDateTime":"2018-02-10",
            "code":{"coding":[{"system":"http://snomed.info/sct","code":"399504009","display":"cT"}]},
            "valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"369833007"}]}}},
          {"resource":{"resourceType":"Observation","id":"fu","status":"final","subject":{"reference":"Patient/p1"},"effectiveDateTime":"2020-05-05",
            "code":{"coding":[{"system":"http://snomed.info/sct","code":"396432002"}]},
            "valueCodeableConcept":{"coding":[{"system":"urn:example:verlauf","code":"V"}]}}},
          {"resource":{"resourceType":"Observation","id":"undated","status":"final","subject":{"reference":"Patient/p1"},
            "code":{"coding":[{"system":"http://loinc.org","code":"2039-6","display":"CEA"}]},"valueQuantity":{"value":2,"unit":"ng/mL"}}},
          {"resource":{"resourceType":"MedicationStatement","id":"m1","status":"completed","subject":{"reference":"Patient/p1"},
            "medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"L02AE02","display":"Leuprorelin"}]},
            "effectivePeriod":{"start":"2018-03-01","end":"2018-09-01"}}},
          {"resource":{"resourceType":"Procedure","id":"pr1","status":"completed","subject":{"reference":"Patient/p1"},"performedDateTime":"2018-03-20",
            "code":{"coding":[{"system":"http://fhir.de/CodeSystem/bfarm/ops","code":"5-604","display":"Radikale Prostatovesikulektomie"}]}}},
          {"resource":{"resourceType":"ImagingStudy","id":"i1","status":"available","subject":{"reference":"Patient/p1"},"started":"2018-02-01",
            "description":"MRT Prostata","modality":[{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"MR"}]}},
          {"resource":{"resourceType":"Observation","id":"other","status":"final","subject":{"reference":"Patient/p2"},"effectiveDateTime":"2018-01-15",
            "code":{"coding":[{"system":"http://loinc.org","code":"2857-1"}]},"valueQuantity":{"value":99,"unit":"ng/mL"}}}
        ]}
        """;

    List<Protos.Node.V1.SummaryEntry> Summary(string patient)
    {
        var report = site.Import(site.Write("bundle.json", Bundle));
        Assert.True(report.Applied, string.Join("\n", report.Problems));
        using var connection = SiteDatabase.Open(site.DbPath);
        return PatientSummaries.Read(connection, [LocalPatient.Find(connection, null, patient)]);
    }

    static string Line(Protos.Node.V1.SummaryEntry e) =>
        $"{e.Date}|{e.Kind}|{e.Section}|{e.System}|{e.Code}|{e.Display}|{e.EndDate}|{(e.HasValue ? e.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "-")}|{e.Unit}|{e.ValueSystem}|{e.ValueCode}";

    [Fact]
    public void Every_fact_of_the_patient_is_one_entry_in_its_section_oldest_first_and_undated_last()
    {
        var entries = Summary("p1");

        Assert.Equal(
        [
            "2018-01-15|observation|results|http://loinc.org|2857-1|PSA||12.5|ng/mL||",
            "2018-02-01|imaging|imaging|http://dicom.nema.org/resources/ontology/DCM|MR|MRT Prostata||-|||",
            "2018-02-03|condition|problems|http://fhir.de/CodeSystem/bfarm/icd-10-gm|C61|Prostatakarzinom||-|||",
            "2018-02-10|observation|staging|http://snomed.info/sct|399504009|cT||-||http://snomed.info/sct|369833007",
            "2018-03-01|medication|medications|http://fhir.de/CodeSystem/bfarm/atc|L02AE02|Leuprorelin|2018-09-01|-|||",
            "2018-03-20|procedure|procedures|http://fhir.de/CodeSystem/bfarm/ops|5-604|Radikale Prostatovesikulektomie||-|||",
            "2019-01-15|observation|results|http://loinc.org|2857-1|PSA||0.1|ng/mL||",
            "2020-05-05|observation|staging|http://snomed.info/sct|396432002|||-||urn:example:verlauf|V",
            "|observation|results|http://loinc.org|2039-6|CEA||2|ng/mL||",
        ], entries.Select(Line));
    }

    [Fact]
    public void Another_patients_facts_never_appear()
    {
        Assert.DoesNotContain(Summary("p1"), e => e.HasValue && e.Value == 99);
        Assert.Equal(["2018-01-15|observation|results|http://loinc.org|2857-1|||99|ng/mL||"], Summary("p2").Select(Line));
    }

    const string CodedResults = """
        {"resourceType":"Bundle","type":"collection","entry":[
          {"resource":{"resourceType":"Patient","id":"p3","gender":"female","birthDate":"1960-01-01"}},
          {"resource":{"resourceType":"Observation","id":"her2","status":"final","subject":{"reference":"Patient/p3"},"effectiveDateTime":"2021-04-01",
            "code":{"coding":[{"system":"http://loinc.org","code":"85319-2","display":"HER2"}]},
            "valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"10828004","display":"Positive"}],"text":"HER2 3+"},
            "note":[{"text":"NOTE-FREE-TEXT the site did not choose to share"}]}},
          {"resource":{"resourceType":"Observation","id":"er","status":"final","subject":{"reference":"Patient/p3"},"effectiveDateTime":"2021-04-02",
            "code":{"coding":[{"system":"http://loinc.org","code":"85337-4"}]},
            "valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"260385009"}],"text":"  Negative  "}}},
          {"resource":{"resourceType":"Observation","id":"pr","status":"final","subject":{"reference":"Patient/p3"},"effectiveDateTime":"2021-04-03",
            "code":{"coding":[{"system":"http://loinc.org","code":"16112-5"}]},
            "valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"10828004","display":"LONG"}]}}}
        ]}
        """;

    [Fact]
    public void A_coded_results_term_reaches_the_summary_but_no_note()
    {
        // An emoji (a surrogate pair) straddles the cut at 199 characters.
        var longTerm = new string('x', 198) + "\uD83D\uDE00" + new string('y', 100);
        var report = site.Import(site.Write("coded.json", CodedResults.Replace("\"LONG\"", $"\"{longTerm}\"", StringComparison.Ordinal)));
        Assert.True(report.Applied, string.Join("\n", report.Problems));
        using var connection = SiteDatabase.Open(site.DbPath);
        var entries = PatientSummaries.Read(connection, [LocalPatient.Find(connection, null, "p3")]);

        // The coding's own display wins over the concept's text; the text stands in where a coding has none.
        Assert.Equal(["85319-2|10828004|Positive", "85337-4|260385009|Negative"], entries.Take(2).Select(e => $"{e.Code}|{e.ValueCode}|{e.ValueDisplay}"));
        // A term is bounded: cut with an ellipsis, never inside a surrogate pair.
        Assert.Equal(new string('x', 198) + "…", entries[2].ValueDisplay);
        // Free text the site did not choose to share stays out of the database and the summary.
        Assert.DoesNotContain(site.Rows("SELECT * FROM fact"), row => row.Contains("NOTE-FREE-TEXT", StringComparison.Ordinal));
        Assert.DoesNotContain(entries, e => e.ToString().Contains("NOTE-FREE-TEXT", StringComparison.Ordinal));
    }

    [Fact]
    public void An_older_site_database_without_value_terms_gains_the_column_and_keeps_its_facts()
    {
        // The fact table as it shipped before coded values kept their term.
        using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={site.DbPath};Pooling=False"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE code_system (sid INTEGER PRIMARY KEY, uri TEXT NOT NULL UNIQUE);
                CREATE TABLE patient (pid INTEGER PRIMARY KEY, resource_id TEXT NOT NULL UNIQUE, sex TEXT NOT NULL DEFAULT 'unknown',
                  birth_date INTEGER, deceased INTEGER NOT NULL DEFAULT 0, deceased_date INTEGER, kvnr TEXT, family TEXT, given TEXT, linkage TEXT);
                CREATE TABLE fact (fid INTEGER PRIMARY KEY, pid INTEGER NOT NULL, sid INTEGER NOT NULL, code TEXT NOT NULL, kind INTEGER NOT NULL,
                  date INTEGER, end_date INTEGER, value_num REAL, unit TEXT, value_sid INTEGER, value_code TEXT, display TEXT,
                  resource_type TEXT NOT NULL, resource_id TEXT NOT NULL);
                INSERT INTO code_system(sid, uri) VALUES (1, 'http://snomed.info/sct');
                INSERT INTO patient(pid, resource_id) VALUES (1, 'old');
                INSERT INTO fact(pid, sid, code, kind, date, value_sid, value_code, display, resource_type, resource_id)
                  VALUES (1, 1, '399534004', 2, 18000, 1, '369833007', 'cN', 'Observation', 'cn');
                """;
            create.ExecuteNonQuery();
        }

        using (var connection = SiteDatabase.Open(site.DbPath))
        {
            var entry = Assert.Single(PatientSummaries.Read(connection, [LocalPatient.Find(connection, null, "old")]));
            Assert.Equal(("399534004", "369833007", ""), (entry.Code, entry.ValueCode, entry.ValueDisplay));
        }
        // Opening twice upgrades once; a new import into the upgraded file keeps its terms.
        Assert.Equal(1, site.Scalar("SELECT count(*) FROM pragma_table_info('fact') WHERE name = 'value_display'"));
        var report = site.Import(site.Write("coded.json", CodedResults));
        Assert.True(report.Applied, string.Join("\n", report.Problems));
        Assert.Equal(["Positive", "Negative", "LONG"], site.Rows("SELECT value_display FROM fact WHERE resource_id <> 'cn' ORDER BY fid"));
        Assert.Equal(["NULL"], site.Rows("SELECT value_display FROM fact WHERE resource_id = 'cn'"));
    }

    [Theory]
    [InlineData(FactKind.Observation, CodeSystems.Snomed, "371494008", "staging")]   // pN
    [InlineData(FactKind.Observation, CodeSystems.Snomed, "399588009", "staging")]   // stage group, pathological
    [InlineData(FactKind.Observation, CodeSystems.Snomed, "399608002", "staging")]   // follow-up: distant metastases
    [InlineData(FactKind.Observation, CodeSystems.Loinc, "399504009", "results")]    // the same digits in another system are not TNM
    [InlineData(FactKind.Observation, CodeSystems.MidiaMs, "edss", "results")]
    [InlineData(FactKind.Condition, CodeSystems.Snomed, "24700007", "problems")]
    [InlineData(FactKind.Medication, CodeSystems.Atc, "L04AG08", "medications")]
    [InlineData(FactKind.Procedure, CodeSystems.Ops, "8-52", "procedures")]
    [InlineData(FactKind.Imaging, CodeSystems.Dicom, "MR", "imaging")]
    public void Sections_follow_the_kind_and_the_oncology_staging_codes(FactKind kind, string system, string code, string section) =>
        Assert.Equal(section, PatientSummaries.Section(kind, system, code));

    [Fact]
    public void The_access_detail_counts_entries_per_section_in_a_fixed_order()
    {
        Assert.Equal("problems 1, medications 1, results 3, procedures 1, imaging 1, staging 2", PatientSummaries.Detail(Summary("p1")));
        Assert.Equal("no entries", PatientSummaries.Detail([]));
    }
}
