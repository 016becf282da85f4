using System.Text.Json;
using System.Text.RegularExpressions;
using Midia.Cli.Dev.Synth;

namespace Midia.Node.Tests.Synth;

public sealed class SynthTests(SynthExport export) : IClassFixture<SynthExport>
{
    static readonly DateOnly Reference = new(2025, 6, 30);

    [Fact]
    public void TheSameSeedGivesIdenticalBytesAndAnotherSeedDifferentData()
    {
        var again = Path.Combine(Path.GetTempPath(), "midia-synth-" + Guid.NewGuid().ToString("N"));
        var other = Path.Combine(Path.GetTempPath(), "midia-synth-" + Guid.NewGuid().ToString("N"));
        try
        {
            SynthExport.Write(again, SynthExport.Seed, SynthExport.PatientsPerSite);
            SynthExport.Write(other, SynthExport.Seed + 1, SynthExport.PatientsPerSite);
            foreach (var site in SynthExport.Sites)
                foreach (var type in SynthExport.Types)
                {
                    var file = Path.Combine(site, type + ".ndjson");
                    Assert.True(File.ReadAllBytes(Path.Combine(export.Directory, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(again, file))), $"{file} differs between two runs with the same seed");
                }
            foreach (var site in SynthExport.Sites)
                Assert.NotEqual(File.ReadAllText(Path.Combine(export.Directory, site, "Patient.ndjson")), File.ReadAllText(Path.Combine(other, site, "Patient.ndjson")));
        }
        finally
        {
            if (Directory.Exists(again)) Directory.Delete(again, true);
            if (Directory.Exists(other)) Directory.Delete(other, true);
        }
    }

    [Fact]
    public void ASiteGeneratedAloneIsByteIdenticalToTheSameSiteGeneratedWithTheOthers()
    {
        var alone = Path.Combine(Path.GetTempPath(), "midia-synth-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(alone);
        try
        {
            new SiteExport(new Population(SynthExport.Seed, SynthExport.Sites, SynthExport.PatientsPerSite), 1).Write(alone);
            foreach (var type in SynthExport.Types)
                Assert.True(File.ReadAllBytes(Path.Combine(alone, type + ".ndjson")).AsSpan()
                    .SequenceEqual(File.ReadAllBytes(Path.Combine(export.Directory, SynthExport.Sites[1], type + ".ndjson"))), type);
        }
        finally
        {
            Directory.Delete(alone, true);
        }
    }

    [Fact]
    public void EachSiteHasTheRequestedNumberOfPatientsAndEveryFileIsWritten()
    {
        foreach (var site in SynthExport.Sites)
        {
            Assert.Equal(SynthExport.PatientsPerSite, export.Resources[site]["Patient"].Count);
            foreach (var type in SynthExport.Types) Assert.NotEmpty(export.Resources[site][type]);
        }
        Assert.DoesNotContain(Directory.GetDirectories(export.Directory), d => Path.GetFileName(d).StartsWith('.'));
    }

    [Fact]
    public void EveryLineIsAResourceWithAUniqueIdWhoseReferencesResolveWithinItsSite()
    {
        foreach (var site in SynthExport.Sites)
        {
            var patients = export.Resources[site]["Patient"].Select(p => p.GetProperty("id").GetString()!).ToHashSet();
            var studies = export.Resources[site]["ImagingStudy"].Select(p => "ImagingStudy/" + p.GetProperty("id").GetString()).ToHashSet();
            var medications = export.Resources[site]["Medication"].Select(m => "Medication/" + m.GetProperty("id").GetString()).ToHashSet();
            var ids = new HashSet<string>();
            foreach (var type in SynthExport.Types)
                foreach (var resource in export.Resources[site][type])
                {
                    Assert.Equal(type, resource.GetProperty("resourceType").GetString());
                    var id = resource.GetProperty("id").GetString()!;
                    Assert.Matches("^[A-Za-z0-9\\-\\.]{1,64}$", id);
                    Assert.True(ids.Add(type + "/" + id), $"{site}: {type}/{id} appears twice");
                    if (type == "Patient") continue;
                    if (type == "Medication")
                    {
                        // A site's Medication is master data: no patient, an ATC code.
                        Assert.False(resource.TryGetProperty("subject", out _));
                        Assert.EndsWith("/atc", SynthExport.Codings(resource.GetProperty("code")).Single().GetProperty("system").GetString()!);
                        continue;
                    }
                    if (type == "MedicationStatement")
                    {
                        // As a KDS export writes it: the drug by reference to the site's Medication, never inline.
                        Assert.False(resource.TryGetProperty("medicationCodeableConcept", out _));
                        Assert.Contains(resource.GetProperty("medicationReference").GetProperty("reference").GetString()!, medications);
                    }
                    var owner = resource.GetProperty(type == "Consent" ? "patient" : "subject").GetProperty("reference").GetString()!;
                    Assert.StartsWith("Patient/", owner);
                    Assert.Contains(owner["Patient/".Length..], patients);
                    if (resource.TryGetProperty("derivedFrom", out var derived))
                        foreach (var reference in derived.EnumerateArray()) Assert.Contains(reference.GetProperty("reference").GetString()!, studies);
                }
        }
    }

    [Fact]
    public void EveryClinicalDateLiesBetweenBirthAndDeathOrTheExportDateAndPeriodsAreOrdered()
    {
        foreach (var site in SynthExport.Sites)
        {
            var lives = export.Resources[site]["Patient"].ToDictionary(
                p => "Patient/" + p.GetProperty("id").GetString(),
                p => (Birth: DateOnly.Parse(p.GetProperty("birthDate").GetString()!),
                      End: p.TryGetProperty("deceasedDateTime", out var d) ? DateOnly.Parse(d.GetString()!) : Reference));
            foreach (var type in SynthExport.Types.Skip(1).Where(t => t != "Medication")) // Medications are per site, not per patient
                foreach (var resource in export.Resources[site][type])
                {
                    var (birth, end) = lives[resource.GetProperty(type == "Consent" ? "patient" : "subject").GetProperty("reference").GetString()!];
                    foreach (var property in resource.EnumerateObject())
                    {
                        var dates = property.Name switch
                        {
                            "onsetDateTime" or "recordedDate" or "effectiveDateTime" or "performedDateTime" or "started" or "dateTime" => [property.Value.GetString()!],
                            "effectivePeriod" or "performedPeriod" => property.Value.EnumerateObject().Select(p => p.Value.GetString()!).ToArray(),
                            _ => Array.Empty<string>(),
                        };
                        foreach (var date in dates.Select(DateOnly.Parse))
                            Assert.True(birth <= date && date <= end, $"{site} {type}/{resource.GetProperty("id").GetString()}: {property.Name} {date} outside {birth}..{end}");
                        if (dates.Length == 2) Assert.True(DateOnly.Parse(dates[0]) <= DateOnly.Parse(dates[1]));
                    }
                }
        }
    }

    [Fact]
    public void KvnrsHaveTheShapeAndAValidGkvCheckDigit()
    {
        var kvnrs = export.All("Patient").Select(p => SynthExport.Kvnr(p.Resource)).OfType<string>().ToList();
        Assert.NotEmpty(kvnrs);
        foreach (var kvnr in kvnrs)
        {
            Assert.Matches("^[A-Z][0-9]{9}$", kvnr);
            Assert.Equal(ReferenceCheckDigit(kvnr), kvnr[9] - '0');
        }
        // not all numbers look alike: letters and leading digits vary
        Assert.True(kvnrs.Select(k => k[0]).Distinct().Count() > 10);
        Assert.True(kvnrs.Select(k => k[1..4]).Distinct().Count() > kvnrs.Count / 2);
    }

    [Fact]
    public void TheKvnrCheckDigitAgreesWithThePublishedExample()
    {
        Assert.True(Kvnr.IsValid("A123456780"));
        Assert.False(Kvnr.IsValid("A123456781"));
        Assert.False(Kvnr.IsValid("a123456780"));
        for (long i = 0; i < 2000; i++)
        {
            var kvnr = Kvnr.ForPerson(i * 7919, 42);
            Assert.Equal(ReferenceCheckDigit(kvnr), kvnr[9] - '0');
        }
    }

    /// <summary>The GKV rule written out independently: letter as two digits, weights 1-2-1-2, cross sums of products, mod 10.</summary>
    static int ReferenceCheckDigit(string kvnr)
    {
        var digits = ((kvnr[0] - 'A' + 1).ToString("00") + kvnr[1..9]).Select(c => c - '0').ToArray();
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var product = digits[i] * (i % 2 == 0 ? 1 : 2);
            sum += product > 9 ? product - 9 : product;
        }
        return sum % 10;
    }

    [Fact]
    public void PeopleSeenAtSeveralSitesShareKvnrNameBirthDateAndSex()
    {
        var byKvnr = new Dictionary<string, List<(string Site, string Id, string Demographics)>>();
        var withoutKvnr = new Dictionary<string, List<string>>();
        foreach (var (site, patient) in export.All("Patient"))
        {
            var demographics = SynthExport.Demographics(patient);
            if (SynthExport.Kvnr(patient) is { } kvnr)
            {
                if (!byKvnr.TryGetValue(kvnr, out var list)) byKvnr[kvnr] = list = [];
                list.Add((site, patient.GetProperty("id").GetString()!, demographics));
            }
            else
            {
                if (!withoutKvnr.TryGetValue(demographics, out var list)) withoutKvnr[demographics] = list = [];
                list.Add(site);
            }
        }
        foreach (var (kvnr, seen) in byKvnr)
        {
            Assert.Single(seen.Select(s => s.Demographics).Distinct());
            Assert.Equal(seen.Count, seen.Select(s => s.Site).Distinct().Count()); // never twice at one site
            Assert.Equal(seen.Count, seen.Select(s => s.Id).Distinct().Count());   // local ids differ
        }
        Assert.Contains(byKvnr.Values, seen => seen.Count == 2);
        Assert.Contains(byKvnr.Values, seen => seen.Count == 3);
        Assert.Contains(withoutKvnr.Values, sites => sites.Distinct().Count() >= 2);

        var total = SynthExport.Sites.Length * SynthExport.PatientsPerSite;
        var noKvnr = withoutKvnr.Values.Sum(v => v.Count);
        Assert.InRange(noKvnr / (double)total, 0.05, 0.16);
        foreach (var site in SynthExport.Sites)
        {
            var shared = byKvnr.Values.Count(seen => seen.Count > 1 && seen.Any(s => s.Site == site))
                + withoutKvnr.Values.Count(sites => sites.Distinct().Count() > 1 && sites.Contains(site));
            Assert.InRange(shared / (double)SynthExport.PatientsPerSite, 0.18, 0.35);
        }
    }

    [Fact]
    public void APersonAtSeveralSitesHasDifferentFactsAtEachSite()
    {
        // local facts per site for every shared KVNR: at least one shared person whose sites hold different codes
        var facts = new Dictionary<(string Site, string Patient), HashSet<string>>();
        foreach (var type in new[] { "Condition", "Observation", "MedicationStatement", "Procedure" })
            foreach (var (site, resource) in export.All(type))
            {
                var key = (site, resource.GetProperty("subject").GetProperty("reference").GetString()!["Patient/".Length..]);
                if (!facts.TryGetValue(key, out var set)) facts[key] = set = [];
                set.Add(SynthExport.Codings(export.CodeOf(site, resource)).First().GetProperty("code").GetString()!);
            }
        var differing = export.All("Patient")
            .Where(p => SynthExport.Kvnr(p.Resource) is not null)
            .GroupBy(p => SynthExport.Kvnr(p.Resource))
            .Where(g => g.Count() > 1)
            .Count(g => g.Select(p => string.Join(",", (facts.GetValueOrDefault((p.Site, p.Resource.GetProperty("id").GetString()!)) ?? []).Order())).Distinct().Count() > 1);
        Assert.True(differing > 10, $"only {differing} shared people have different facts at their sites");
    }

    [Fact]
    public void BreastCancerDataCarriesDiagnosesReceptorsTnmMarkersTherapiesAndFollowUp()
    {
        var conditions = Codes("Condition");
        Assert.Contains(conditions, c => c.System == "http://fhir.de/CodeSystem/bfarm/icd-10-gm" && c.Code.StartsWith("C50."));
        Assert.Contains(conditions, c => c.Code.StartsWith("D05."));
        var observations = Codes("Observation");
        foreach (var loinc in new[] { "16112-5", "85337-4", "16113-3", "85339-0", "48676-1", "85319-2", "85318-4", "6875-9", "2039-6" })
            Assert.Contains(observations, c => c.System == "http://loinc.org" && c.Code == loinc);
        var components = ComponentCodes();
        foreach (var snomed in new[] { "399504009", "399534004", "399387003", "384625004", "371494008", "445200009", "399608002" })
            Assert.Contains(components, c => c.System == "http://snomed.info/sct" && c.Code == snomed);
        Assert.Contains(observations, c => c.Code == "399537006");
        Assert.Contains(observations, c => c.Code == "399588009");
        Assert.All(Quantities("6875-9"), q => Assert.Equal("U/mL", q.Unit));
        Assert.All(Quantities("2039-6"), q => Assert.Equal("ng/mL", q.Unit));

        var followUps = export.All("Observation").Select(o => o.Resource).Where(o => CodeOf(o) == "396432002").ToList();
        var results = followUps.Select(o => SynthExport.Codings(o.GetProperty("valueCodeableConcept")).First().GetProperty("code").GetString()).ToHashSet();
        Assert.Contains("V", results);
        Assert.Contains("P", results);
        Assert.Contains("T", results);

        var drugs = Codes("MedicationStatement");
        Assert.Contains(drugs, c => c.Code == "L02BA01");
        Assert.Contains(drugs, c => c.Code is "L02BG03" or "L02BG04" or "L02BG06");
        Assert.Contains(drugs, c => c.Code is "L01FD01" or "L01XC03");
        var procedures = Codes("Procedure");
        Assert.Contains(procedures, c => c.System == "http://fhir.de/CodeSystem/bfarm/ops" && c.Code.StartsWith("5-870."));
        Assert.Contains(procedures, c => c.Code.StartsWith("5-872."));
        Assert.Contains(procedures, c => c.Code.StartsWith("8-52"));
    }

    [Fact]
    public void TrastuzumabIsCodedL01XC03Before2022AndL01FD01From2022()
    {
        var statements = Medications().Where(m => m.Code is "L01XC03" or "L01FD01").ToList();
        Assert.NotEmpty(statements);
        Assert.All(statements, m => Assert.Equal(m.Start < new DateOnly(2022, 1, 1) ? "L01XC03" : "L01FD01", m.Code));
    }

    [Fact]
    public void ProstateCancerDataCarriesPsaSeriesGleasonTherapiesAndProgression()
    {
        Assert.Contains(Codes("Condition"), c => c.Code == "C61");
        var psa = Quantities("2857-1").ToList();
        Assert.All(psa, q => Assert.Equal("ng/mL", q.Unit));
        // a series over years for someone
        Assert.Contains(psa.GroupBy(q => q.Patient), g => g.Count() >= 5 && (g.Max(q => q.Date).DayNumber - g.Min(q => q.Date).DayNumber) > 3 * 365);
        var gleason = export.All("Observation").Select(o => o.Resource).Where(o => CodeOf(o) == "sum").ToList();
        Assert.NotEmpty(gleason);
        foreach (var g in gleason)
        {
            var parts = g.GetProperty("component").EnumerateArray()
                .ToDictionary(c => SynthExport.Codings(c.GetProperty("code")).First().GetProperty("code").GetString()!, c => c.GetProperty("valueQuantity").GetProperty("value").GetDouble());
            Assert.Equal(parts["primary"] + parts["secondary"], g.GetProperty("valueQuantity").GetProperty("value").GetDouble());
            Assert.InRange(parts["primary"], 3, 5);
        }
        var drugs = Codes("MedicationStatement");
        Assert.Contains(drugs, c => c.Code is "L02AE02" or "L02AE03");
        Assert.Contains(drugs, c => c.Code is "L02BX03" or "L02BB04" or "L01CD02");
        Assert.Contains(Codes("Procedure"), c => c.Code.StartsWith("5-604."));
        // progression after prostate cancer: a follow-up P for a C61 patient
        var prostatePatients = export.All("Condition").Where(c => CodeOf(c.Resource) == "C61").Select(c => (c.Site, Subject(c.Resource))).ToHashSet();
        Assert.Contains(export.All("Observation"), o => CodeOf(o.Resource) == "396432002" && prostatePatients.Contains((o.Site, Subject(o.Resource)))
            && SynthExport.Codings(o.Resource.GetProperty("valueCodeableConcept")).First().GetProperty("code").GetString() == "P");
    }

    [Fact]
    public void MultipleSclerosisDataCarriesEdssRelapsesMriAndTherapies()
    {
        var conditions = Codes("Condition");
        Assert.Contains(conditions, c => c.Code.StartsWith("G35"));
        Assert.Contains(conditions, c => c.System == "http://snomed.info/sct" && c.Code == "24700007");
        const string ms = "https://fhir.midia-hub.de/CodeSystem/ms-assessment";
        var observations = Codes("Observation");
        foreach (var code in new[] { "edss", "relapse", "mri-t2-lesions", "mri-gd-lesions" })
            Assert.Contains(observations, c => c.System == ms && c.Code == code);
        var edss = Quantities("edss").ToList();
        Assert.All(edss, q => Assert.True(q.Value is >= 0 and <= 10 && q.Value * 2 == Math.Floor(q.Value * 2), $"EDSS {q.Value}"));
        Assert.Contains(edss.GroupBy(q => q.Patient), g => g.Count() >= 4);
        var studies = export.All("ImagingStudy").Select(s => s.Resource).ToList();
        Assert.Contains(studies, s => s.GetProperty("modality")[0].GetProperty("system").GetString() == "http://dicom.nema.org/resources/ontology/DCM"
            && s.GetProperty("modality")[0].GetProperty("code").GetString() == "MR" && s.GetProperty("description").GetString()!.Length > 0);
    }

    [Fact]
    public void MsTherapiesUseTheOldAtcCodesBefore2024AndTheNewOnesFrom2024()
    {
        var moved = new Dictionary<string, string>
        {
            ["L04AA36"] = "L04AG08", ["L04AA23"] = "L04AG03", ["L04AA34"] = "L04AG06", ["L04AA27"] = "L04AE01",
            ["L04AA42"] = "L04AE03", ["L04AA31"] = "L04AK02", ["N07XX09"] = "L04AX07",
        };
        var change = new DateOnly(2024, 1, 1);
        var statements = Medications().ToList();
        var old = statements.Where(m => moved.ContainsKey(m.Code)).ToList();
        var @new = statements.Where(m => moved.ContainsValue(m.Code)).ToList();
        Assert.NotEmpty(old);
        Assert.NotEmpty(@new);
        Assert.All(old, m => Assert.True(m.Start < change, $"{m.Code} recorded from {m.Start}"));
        Assert.All(@new, m => Assert.True(m.Start >= change, $"{m.Code} recorded from {m.Start}"));
    }

    [Fact]
    public void OnlyPre2020RecordsAtOddSitesUseTheDimdiUrisAndEveryIcdAndOpsCodingHasItsYear()
    {
        var dimdi = 0;
        foreach (var type in new[] { "Condition", "Procedure", "MedicationStatement" })
            foreach (var (site, resource) in export.All(type))
            {
                var date = DateOnly.Parse(type switch
                {
                    "Condition" => resource.GetProperty("recordedDate").GetString()!,
                    "MedicationStatement" => resource.GetProperty("effectivePeriod").GetProperty("start").GetString()!,
                    _ => resource.TryGetProperty("performedDateTime", out var d) ? d.GetString()! : resource.GetProperty("performedPeriod").GetProperty("start").GetString()!,
                });
                var coding = SynthExport.Codings(export.CodeOf(site, resource)).First();
                var system = coding.GetProperty("system").GetString()!;
                var legacy = Array.IndexOf(SynthExport.Sites, site) % 2 == 1 && date < new DateOnly(2020, 1, 1);
                Assert.Equal(legacy, system.StartsWith("http://fhir.de/CodeSystem/dimdi/"));
                if (legacy) dimdi++;
                if (system.EndsWith("/icd-10-gm") || system.EndsWith("/ops"))
                    Assert.Equal(date.Year.ToString(), coding.GetProperty("version").GetString());
            }
        Assert.True(dimdi > 0);
    }

    [Fact]
    public void ConsentResourcesFollowTheMiiShape()
    {
        const string mii = "urn:oid:2.16.840.1.113883.3.1937.777.24.5.3";
        foreach (var (_, consent) in export.All("Consent"))
        {
            var scope = SynthExport.Codings(consent.GetProperty("scope")).Single().GetProperty("code").GetString();
            Assert.Contains(scope, new[] { "research", "patient-privacy" });
            Assert.Equal("active", consent.GetProperty("status").GetString());
            Assert.True(consent.GetProperty("policy").GetArrayLength() > 0);
            var top = consent.GetProperty("provision");
            Assert.Equal("deny", top.GetProperty("type").GetString());
            var (start, end) = Period(top);
            Assert.True(start <= end);
            var nested = top.GetProperty("provision").EnumerateArray().ToList();
            Assert.NotEmpty(nested);
            foreach (var provision in nested)
            {
                Assert.Contains(provision.GetProperty("type").GetString(), new[] { "permit", "deny" });
                var (s, e) = Period(provision);
                Assert.True(s <= e && s >= start && e <= end);
                var coding = provision.GetProperty("code")[0].GetProperty("coding").EnumerateArray().Single();
                var system = coding.GetProperty("system").GetString();
                var code = coding.GetProperty("code").GetString()!;
                if (scope == "research")
                {
                    Assert.Equal(mii, system);
                    Assert.Matches(@"^2\.16\.840\.1\.113883\.3\.1937\.777\.24\.5\.3\.\d+$", code);
                }
                else
                {
                    Assert.Equal("https://fhir.midia-hub.de/CodeSystem/consent-policy", system);
                    Assert.Equal("care-sharing", code);
                }
            }
        }
    }

    [Fact]
    public void MostPatientsMayBeCountedForResearchAndSomeRevokedOrExpired()
    {
        // the MII rule, evaluated here independently: merge permits, subtract denies, at the export date
        var research = "2.16.840.1.113883.3.1937.777.24.5.3.8";
        var total = SynthExport.Sites.Length * SynthExport.PatientsPerSite;
        int permittedResearch = 0, permittedCare = 0, revoked = 0, expired = 0;
        foreach (var group in export.All("Consent").GroupBy(c => (c.Site, c.Resource.GetProperty("patient").GetProperty("reference").GetString())))
        {
            var provisions = group.SelectMany(c => c.Resource.GetProperty("provision").GetProperty("provision").EnumerateArray())
                .Select(p => (Type: p.GetProperty("type").GetString(), Code: p.GetProperty("code")[0].GetProperty("coding")[0].GetProperty("code").GetString(), Period: Period(p)))
                .ToList();
            bool Allowed(string code) =>
                provisions.Any(p => p.Code == code && p.Type == "permit" && p.Period.Start <= Reference && Reference <= p.Period.End)
                && !provisions.Any(p => p.Code == code && p.Type == "deny" && p.Period.Start <= Reference && Reference <= p.Period.End);
            if (Allowed(research)) permittedResearch++;
            if (Allowed("care-sharing")) permittedCare++;
            if (provisions.Any(p => p.Code == research && p.Type == "deny")) revoked++;
            if (provisions.Any(p => p.Code == research && p.Type == "permit" && p.Period.End < Reference)) expired++;
        }
        Assert.InRange(permittedResearch / (double)total, 0.68, 0.88);
        Assert.InRange(permittedCare / (double)total, 0.58, 0.80);
        Assert.True(revoked > 0, "no revocation of .8");
        Assert.True(expired > 0, "no expired .8 permit");
    }

    // --- reading helpers ---

    sealed record Coded(string System, string Code);
    sealed record Quantity(string Patient, DateOnly Date, double Value, string Unit);
    sealed record Statement(string Code, DateOnly Start);

    List<Coded> Codes(string type) => export.All(type)
        .SelectMany(r => SynthExport.Codings(export.CodeOf(r.Site, r.Resource)))
        .Select(c => new Coded(c.GetProperty("system").GetString()!, c.GetProperty("code").GetString()!)).ToList();

    List<Coded> ComponentCodes() => export.All("Observation")
        .Where(o => o.Resource.TryGetProperty("component", out _))
        .SelectMany(o => o.Resource.GetProperty("component").EnumerateArray())
        .SelectMany(c => SynthExport.Codings(c.GetProperty("code")))
        .Select(c => new Coded(c.GetProperty("system").GetString()!, c.GetProperty("code").GetString()!)).ToList();

    IEnumerable<Quantity> Quantities(string code) => export.All("Observation")
        .Where(o => CodeOf(o.Resource) == code)
        .Select(o => new Quantity(o.Site + "/" + Subject(o.Resource), DateOnly.Parse(o.Resource.GetProperty("effectiveDateTime").GetString()!),
            o.Resource.GetProperty("valueQuantity").GetProperty("value").GetDouble(), o.Resource.GetProperty("valueQuantity").GetProperty("code").GetString()!));

    IEnumerable<Statement> Medications() => export.All("MedicationStatement").Select(m => new Statement(
        SynthExport.Codings(export.Drug(m.Site, m.Resource)).First().GetProperty("code").GetString()!,
        DateOnly.Parse(m.Resource.GetProperty("effectivePeriod").GetProperty("start").GetString()!)));

    static string? CodeOf(JsonElement resource) => SynthExport.Codings(resource.GetProperty("code")).First().GetProperty("code").GetString();
    static string Subject(JsonElement resource) => resource.GetProperty("subject").GetProperty("reference").GetString()!;

    static (DateOnly Start, DateOnly End) Period(JsonElement element)
    {
        var period = element.GetProperty("period");
        return (DateOnly.Parse(period.GetProperty("start").GetString()!), DateOnly.Parse(period.GetProperty("end").GetString()!));
    }
}
