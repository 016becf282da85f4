using System.Text.Json;

namespace Midia.Care.Codes;

/// <summary>
/// Every code the network's synthetic sites carry (docs/DATA.md lists them): what `midia dev synth`
/// writes and what the researchers' portal offers in its code search. System URIs are those of
/// node/Store/CodeSystems.cs and DOMAIN.md; neither the cli nor the portal's shared code
/// references the node, so they are repeated here.
/// </summary>
public static class Vocabulary
{
    public const string Icd10Gm = "http://fhir.de/CodeSystem/bfarm/icd-10-gm";
    /// <summary>ICD-10 in the WHO edition: the MII cause-of-death profile (Todesursache) codes in it.</summary>
    public const string Icd10Who = "http://hl7.org/fhir/sid/icd-10";
    public const string Ops = "http://fhir.de/CodeSystem/bfarm/ops";
    public const string Atc = "http://fhir.de/CodeSystem/bfarm/atc";
    public const string Loinc = "http://loinc.org";
    public const string Snomed = "http://snomed.info/sct";
    public const string Ucum = "http://unitsofmeasure.org";
    public const string Dicom = "http://dicom.nema.org/resources/ontology/DCM";
    public const string KvnrSystem = "http://fhir.de/sid/gkv/kvid-10";
    public const string MiiConsentPolicy = "urn:oid:2.16.840.1.113883.3.1937.777.24.5.3";
    public const string MiiConsentPolicyPrefix = "2.16.840.1.113883.3.1937.777.24.5.3.";
    public const string MsAssessment = "https://fhir.midia-hub.de/CodeSystem/ms-assessment";
    public const string ConsentPolicy = "https://fhir.midia-hub.de/CodeSystem/consent-policy";
    public const string Gleason = "https://fhir.midia-hub.de/CodeSystem/gleason";
    public const string TumourStatus = "https://fhir.midia-hub.de/CodeSystem/tumour-status";
    public const string Her2IhcScore = "https://fhir.midia-hub.de/CodeSystem/her2-ihc-score";
    public const string Tnm = "https://www.uicc.org/resources/tnm";
    public const string ObservationCategory = "http://terminology.hl7.org/CodeSystem/observation-category";
    public const string ConditionClinical = "http://terminology.hl7.org/CodeSystem/condition-clinical";
    public const string ConditionVerification = "http://terminology.hl7.org/CodeSystem/condition-ver-status";
    public const string ConsentScope = "http://terminology.hl7.org/CodeSystem/consentscope";
    public const string IdentifierTypeDe = "http://fhir.de/CodeSystem/identifier-type-de-basis";
    public const string IdentifierTypeV2 = "http://terminology.hl7.org/CodeSystem/v2-0203";

    static Concept C(string system, string code, string display) => new(system, code, display);
    static Concept Icd(string code, string display) => C(Icd10Gm, code, display);
    static Concept OpsCode(string code, string display) => C(Ops, code, display);
    static Concept AtcCode(string code, string display) => C(Atc, code, display);
    static Concept LoincCode(string code, string display) => C(Loinc, code, display);
    static Concept Sct(string code, string display) => C(Snomed, code, display);
    static Concept Unit(string code) => C(Ucum, code, code);
    static JsonEncodedText P(string url) => JsonEncodedText.Encode(url, Concept.Encoder);

    // MII core data set profiles (meta.profile).
    public static readonly JsonEncodedText PatientProfile = P("https://www.medizininformatik-initiative.de/fhir/core/modul-person/StructureDefinition/Patient"),
        ConditionProfile = P("https://www.medizininformatik-initiative.de/fhir/core/modul-diagnose/StructureDefinition/Diagnose"),
        LabProfile = P("https://www.medizininformatik-initiative.de/fhir/core/modul-labor/StructureDefinition/ObservationLab"),
        MedicationProfile = P("https://www.medizininformatik-initiative.de/fhir/core/modul-medikation/StructureDefinition/MedicationStatement"),
        MedicationResourceProfile = P("https://www.medizininformatik-initiative.de/fhir/core/modul-medikation/StructureDefinition/Medication"),
        ProcedureProfile = P("https://www.medizininformatik-initiative.de/fhir/core/modul-prozedur/StructureDefinition/Procedure"),
        TnmProfile = P("https://www.medizininformatik-initiative.de/fhir/ext/modul-onko/StructureDefinition/mii-pr-onko-tnm-klassifikation"),
        FollowUpProfile = P("https://www.medizininformatik-initiative.de/fhir/ext/modul-onko/StructureDefinition/mii-pr-onko-verlauf"),
        ConsentProfile = P("https://www.medizininformatik-initiative.de/fhir/modul-consent/StructureDefinition/mii-pr-consent-einwilligung");

    // Structural codes: written without display (the code is the meaning; keeps 1 M-patient exports small).
    public static readonly Concept Laboratory = C(ObservationCategory, "laboratory", ""),
        Exam = C(ObservationCategory, "exam", ""), Imaging = C(ObservationCategory, "imaging", ""),
        ClinicalActive = C(ConditionClinical, "active", ""), ClinicalRemission = C(ConditionClinical, "remission", ""),
        ClinicalResolved = C(ConditionClinical, "resolved", ""), Confirmed = C(ConditionVerification, "confirmed", ""),
        ScopeResearch = C(ConsentScope, "research", ""), ScopePrivacy = C(ConsentScope, "patient-privacy", ""),
        ConsentDocument = LoincCode("57016-8", ""),
        KvnrType = C(IdentifierTypeDe, "KVZ10", "Krankenversichertennummer"), MrType = C(IdentifierTypeV2, "MR", "Medical record number"),
        Positive = Sct("10828004", "Positive"), Negative = Sct("260385009", "Negative"), Yes = Sct("373066001", "Yes"),
        LeftBreast = Sct("80248007", "Left breast structure"), RightBreast = Sct("73056007", "Right breast structure"),
        Brain = Sct("12738006", "Brain structure"), Chest = Sct("51185008", "Thoracic structure"), Abdomen = Sct("818983003", "Abdomen"), MagneticResonance = C(Dicom, "MR", "Magnetic Resonance"), ComputedTomography = C(Dicom, "CT", "Computed Tomography");

    // UCUM units.
    public static readonly Concept NgPerMl = Unit("ng/mL"), UPerMl = Unit("U/mL"), Percent = Unit("%"), MgPerDl = Unit("mg/dL"),
        GPerDl = Unit("g/dL"), MIUPerL = Unit("m[IU]/L"), Score = Unit("{score}"), Count = Unit("{count}");

    // Breast cancer.
    public static readonly Concept[] BreastInvasive =
    [
        Icd("C50.1", "Bösartige Neubildung: Zentraler Drüsenkörper der Brustdrüse"),
        Icd("C50.2", "Bösartige Neubildung: Oberer innerer Quadrant der Brustdrüse"),
        Icd("C50.3", "Bösartige Neubildung: Unterer innerer Quadrant der Brustdrüse"),
        Icd("C50.4", "Bösartige Neubildung: Oberer äußerer Quadrant der Brustdrüse"),
        Icd("C50.4", "Bösartige Neubildung: Oberer äußerer Quadrant der Brustdrüse"),
        Icd("C50.5", "Bösartige Neubildung: Unterer äußerer Quadrant der Brustdrüse"),
        Icd("C50.8", "Bösartige Neubildung: Brustdrüse, mehrere Teilbereiche überlappend"),
        Icd("C50.9", "Bösartige Neubildung: Brustdrüse, nicht näher bezeichnet"),
    ];
    public static readonly Concept[] BreastInSitu =
    [
        Icd("D05.1", "Carcinoma in situ der Milchgänge"), Icd("D05.1", "Carcinoma in situ der Milchgänge"),
        Icd("D05.0", "Lobuläres Carcinoma in situ der Brustdrüse"), Icd("D05.9", "Carcinoma in situ der Brustdrüse, nicht näher bezeichnet"),
    ];
    public static readonly Concept EstrogenReceptor = LoincCode("16112-5", "Estrogen receptor [Interpretation] in Tissue"),
        EstrogenReceptorPercent = LoincCode("85337-4", "Estrogen receptor Ag [Presence] in Breast cancer specimen by Immune stain"),
        ProgesteroneReceptor = LoincCode("16113-3", "Progesterone receptor [Interpretation] in Tissue"),
        ProgesteroneReceptorPercent = LoincCode("85339-0", "Progesterone receptor Ag [Presence] in Breast cancer specimen by Immune stain"),
        Her2 = LoincCode("48676-1", "HER2 [Interpretation] in Tissue"),
        Her2Ihc = LoincCode("85319-2", "HER2 [Presence] in Breast cancer specimen by Immune stain"),
        Her2Fish = LoincCode("85318-4", "HER2 [Presence] in Breast cancer specimen by FISH"),
        Ca153 = new(Loinc, "6875-9", "Cancer Ag 15-3 [Units/volume] in Serum or Plasma") { English = "CA 15-3" },
        Cea = new(Loinc, "2039-6", "Carcinoembryonic Ag [Mass/volume] in Serum or Plasma") { English = "CEA" };
    public static readonly Concept[] Her2IhcScores =
        [C(Her2IhcScore, "0", "HER2 IHC 0"), C(Her2IhcScore, "1+", "HER2 IHC 1+"), C(Her2IhcScore, "2+", "HER2 IHC 2+"), C(Her2IhcScore, "3+", "HER2 IHC 3+")];
    public static readonly Concept Tamoxifen = AtcCode("L02BA01", "Tamoxifen"), Anastrozole = AtcCode("L02BG03", "Anastrozol"),
        Letrozole = AtcCode("L02BG04", "Letrozol"), Exemestane = AtcCode("L02BG06", "Exemestan"),
        TrastuzumabOld = AtcCode("L01XC03", "Trastuzumab"), Trastuzumab = AtcCode("L01FD01", "Trastuzumab");
    public static readonly Concept[] BreastConserving =
    [
        OpsCode("5-870.20", "Partielle (brusterhaltende) Exzision der Mamma: Duktektomie / Lumpektomie ohne Hautsegment"),
        OpsCode("5-870.a1", "Partielle (brusterhaltende) Exzision der Mamma: Defektdeckung durch Mobilisation und Adaptation"),
        OpsCode("5-870.a2", "Partielle (brusterhaltende) Exzision der Mamma: Defektdeckung durch glanduläre intramammäre Rotationslappen"),
        OpsCode("5-870.90", "Partielle (brusterhaltende) Exzision der Mamma: Lokale Exzision"),
    ];
    public static readonly Concept[] Mastectomy =
    [
        OpsCode("5-872.0", "(Modifizierte radikale) Mastektomie: Ohne Resektion der M. pectoralis-Faszie"),
        OpsCode("5-872.1", "(Modifizierte radikale) Mastektomie: Mit Resektion der M. pectoralis-Faszie"),
    ];
    public static readonly Concept[] Radiotherapy =
    [
        OpsCode("8-522.91", "Hochvoltstrahlentherapie: Linearbeschleuniger, intensitätsmodulierte Radiotherapie, mit bildgestützter Einstellung"),
        OpsCode("8-522.d1", "Hochvoltstrahlentherapie: Linearbeschleuniger, 3D-geplante Bestrahlung, mit bildgestützter Einstellung"),
        OpsCode("8-523.0", "Andere Hochvoltstrahlentherapie: Stereotaktische Bestrahlung, einzeitig"),
    ];

    // TNM (MII oncology: SNOMED CT categories, UICC values).
    public static readonly Concept ClinicalStage = Sct("399537006", "Clinical TNM stage grouping"),
        PathologicalStage = Sct("399588009", "Pathologic TNM stage grouping"),
        CT = Sct("399504009", "cT category"), CN = Sct("399534004", "cN category"), CM = Sct("399387003", "cM category"),
        PT = Sct("384625004", "pT category"), PN = Sct("371494008", "pN category");
    public static Concept TnmValue(string code) => TnmValues.TryGetValue(code, out var c) ? c : throw new ArgumentException(code);
    static readonly Dictionary<string, Concept> TnmValues = new[]
    {
        "Tis", "T1", "T1c", "T2", "T2a", "T2b", "T2c", "T3", "T3a", "T3b", "T4", "N0", "N1", "N2", "N3", "M0", "M1",
        "0", "I", "IA", "IIA", "IIB", "IIIA", "IIIB", "IIIC", "IV",
    }.ToDictionary(v => v, v => C(Tnm, v, v));

    // Follow-up (oBDS "Verlauf") and its project value codes.
    public static readonly Concept FollowUp = Sct("396432002", "Status of regression of tumor"),
        TumourComponent = Sct("445200009", "Tumor status of primary tumor"),
        NodesComponent = Sct("399656008", "Status of regional lymph node metastasis"),
        MetastasesComponent = Sct("399608002", "Status of distant metastasis"),
        CompleteRemission = C(TumourStatus, "V", "Vollremission (complete remission)"),
        PartialRemission = C(TumourStatus, "T", "Teilremission (partial remission)"),
        NoChange = C(TumourStatus, "K", "Keine Änderung (stable disease)"),
        Progression = C(TumourStatus, "P", "Progression"),
        NoTumour = C(TumourStatus, "tumour-free", "Kein Tumor nachweisbar"),
        LocalRecurrence = C(TumourStatus, "recurrence", "Lokalrezidiv"),
        NewMetastases = C(TumourStatus, "metastases", "Neu aufgetretene Fernmetastasen");
    public static readonly Concept[] DistantMetastasis =
        [Icd("C79.5", "Sekundäre bösartige Neubildung des Knochens und des Knochenmarkes"), Icd("C78.0", "Sekundäre bösartige Neubildung der Lunge"), Icd("C78.7", "Sekundäre bösartige Neubildung der Leber und der intrahepatischen Gallengänge")];

    // Prostate cancer.
    public static readonly Concept Prostate = new(Icd10Gm, "C61", "Bösartige Neubildung der Prostata") { English = "Prostate cancer" },
        Psa = new(Loinc, "2857-1", "Prostate specific Ag [Mass/volume] in Serum or Plasma") { English = "PSA" },
        GleasonSum = C(Gleason, "sum", "Gleason score (sum of primary and secondary pattern)"),
        GleasonPrimary = C(Gleason, "primary", "Gleason primary pattern"),
        GleasonSecondary = C(Gleason, "secondary", "Gleason secondary pattern"),
        Leuprorelin = AtcCode("L02AE02", "Leuprorelin"), Goserelin = AtcCode("L02AE03", "Goserelin"),
        Bicalutamide = AtcCode("L02BB03", "Bicalutamid"), Enzalutamide = AtcCode("L02BB04", "Enzalutamid"),
        Abiraterone = AtcCode("L02BX03", "Abirateron"), Docetaxel = AtcCode("L01CD02", "Docetaxel");
    public static readonly Concept[] Prostatectomy =
    [
        OpsCode("5-604.02", "Radikale Prostatovesikulektomie: Retropubisch: Mit regionaler Lymphadenektomie"),
        OpsCode("5-604.12", "Radikale Prostatovesikulektomie: Retropubisch, gefäß- und nervenerhaltend: Mit regionaler Lymphadenektomie"),
        OpsCode("5-604.42", "Radikale Prostatovesikulektomie: Laparoskopisch: Mit regionaler Lymphadenektomie"),
        OpsCode("5-604.52", "Radikale Prostatovesikulektomie: Laparoskopisch, gefäß- und nervenerhaltend: Mit regionaler Lymphadenektomie"),
    ];

    // Multiple sclerosis.
    public static readonly Concept MsSnomed = Sct("24700007", "Multiple sclerosis");
    public static readonly Concept MsFirst = Icd("G35.0", "Erstmanifestation einer multiplen Sklerose"),
        MsRelapsing = Icd("G35.10", "Multiple Sklerose mit vorherrschend schubförmigem Verlauf: Ohne Angabe einer akuten Exazerbation oder Progression"),
        MsRelapsingActive = Icd("G35.11", "Multiple Sklerose mit vorherrschend schubförmigem Verlauf: Mit Angabe einer akuten Exazerbation oder Progression"),
        MsPrimaryProgressive = Icd("G35.20", "Multiple Sklerose mit primär-chronischem Verlauf: Ohne Angabe einer akuten Exazerbation oder Progression"),
        MsSecondaryProgressive = Icd("G35.30", "Multiple Sklerose mit sekundär-chronischem Verlauf: Ohne Angabe einer akuten Exazerbation oder Progression");
    public static readonly Concept Edss = C(MsAssessment, "edss", "Expanded Disability Status Scale (EDSS)"),
        Relapse = C(MsAssessment, "relapse", "MS relapse (Schub)"),
        T2Lesions = C(MsAssessment, "mri-t2-lesions", "MRI: number of T2 lesions"),
        GdLesions = C(MsAssessment, "mri-gd-lesions", "MRI: number of gadolinium-enhancing lesions");

    /// <summary>An MS therapy: its ATC code before 2024 and from 2024 (WHO moved several in 2024).</summary>
    public sealed record Dmt(Concept Old, Concept New, bool HighEfficacy);
    static Dmt Moved(string name, string old, string @new, bool high) => new(AtcCode(old, name), AtcCode(@new, name), high);
    static Dmt Same(string name, string code, bool high) { var c = AtcCode(code, name); return new(c, c, high); }
    public static readonly Dmt Ocrelizumab = Moved("Ocrelizumab", "L04AA36", "L04AG08", true), Natalizumab = Moved("Natalizumab", "L04AA23", "L04AG03", true),
        Alemtuzumab = Moved("Alemtuzumab", "L04AA34", "L04AG06", true), Fingolimod = Moved("Fingolimod", "L04AA27", "L04AE01", true),
        Siponimod = Moved("Siponimod", "L04AA42", "L04AE03", true), Teriflunomide = Moved("Teriflunomid", "L04AA31", "L04AK02", false),
        DimethylFumarate = Moved("Dimethylfumarat", "N07XX09", "L04AX07", false), Cladribine = Same("Cladribin", "L04AA40", true),
        Glatiramer = Same("Glatirameracetat", "L03AX13", false), InterferonBeta1a = Same("Interferon beta-1a", "L03AB07", false),
        InterferonBeta1b = Same("Interferon beta-1b", "L03AB08", false), Peginterferon = Same("Peginterferon beta-1a", "L03AB13", false);
    public static readonly Dmt[] FirstLine = [InterferonBeta1a, InterferonBeta1a, InterferonBeta1b, Peginterferon, Glatiramer, Glatiramer, Teriflunomide, DimethylFumarate, DimethylFumarate];
    public static readonly Dmt[] HighEfficacy = [Ocrelizumab, Ocrelizumab, Natalizumab, Fingolimod, Fingolimod, Alemtuzumab, Cladribine];

    // Background population.
    public sealed record Disorder(Concept Code, double PrevalenceYoung, double PrevalenceOld, Concept[] Drugs, (Concept Lab, Concept Unit, double Mean, double Sd)? Lab);
    public static readonly Concept HbA1c = new(Loinc, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood") { English = "HbA1c" },
        Creatinine = LoincCode("2160-0", "Creatinine [Mass/volume] in Serum or Plasma"),
        Hemoglobin = LoincCode("718-7", "Hemoglobin [Mass/volume] in Blood"),
        Ldl = LoincCode("2089-1", "Cholesterol in LDL [Mass/volume] in Serum or Plasma"),
        Tsh = LoincCode("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma");
    public static readonly Disorder[] Common =
    [
        new(Icd("I10.90", "Essentielle Hypertonie, nicht näher bezeichnet: Ohne Angabe einer hypertensiven Krise"), 0.06, 0.45,
            [AtcCode("C09AA05", "Ramipril"), AtcCode("C08CA01", "Amlodipin"), AtcCode("C07AB07", "Bisoprolol")], null),
        new(Icd("E11.90", "Diabetes mellitus, Typ 2: Ohne Komplikationen: Nicht als entgleist bezeichnet"), 0.02, 0.16,
            [AtcCode("A10BA02", "Metformin"), AtcCode("A10BK01", "Dapagliflozin")], (HbA1c, Percent, 7.2, 0.9)),
        new(Icd("E78.0", "Reine Hypercholesterinämie"), 0.03, 0.22, [AtcCode("C10AA01", "Simvastatin"), AtcCode("C10AA05", "Atorvastatin")], (Ldl, MgPerDl, 165, 25)),
        new(Icd("E03.9", "Hypothyreose, nicht näher bezeichnet"), 0.04, 0.08, [AtcCode("H03AA01", "Levothyroxin-Natrium")], (Tsh, MIUPerL, 4.5, 1.5)),
        new(Icd("J45.9", "Asthma bronchiale, nicht näher bezeichnet"), 0.06, 0.05, [AtcCode("R03AK06", "Salmeterol und Fluticason")], null),
        new(Icd("J44.99", "Chronische obstruktive Lungenkrankheit, nicht näher bezeichnet: FEV1 nicht näher bezeichnet"), 0.005, 0.07, [AtcCode("R03AL03", "Vilanterol und Umeclidiniumbromid")], null),
        new(Icd("F32.9", "Depressive Episode, nicht näher bezeichnet"), 0.06, 0.07, [AtcCode("N06AB06", "Sertralin")], null),
        new(Icd("N18.3", "Chronische Nierenkrankheit, Stadium 3"), 0.003, 0.06, [], (Creatinine, MgPerDl, 1.6, 0.3)),
        new(Icd("I48.9", "Vorhofflimmern und Vorhofflattern, nicht näher bezeichnet"), 0.002, 0.06, [AtcCode("B01AF02", "Apixaban")], null),
        new(Icd("M54.5", "Kreuzschmerz"), 0.08, 0.10, [AtcCode("M01AE01", "Ibuprofen")], null),
    ];
    public static readonly Concept[] CommonProcedures =
    [
        OpsCode("1-650.2", "Diagnostische Koloskopie: Total, mit Ileoskopie"), OpsCode("5-511.11", "Cholezystektomie: Einfach, laparoskopisch: Ohne laparoskopische Revision der Gallengänge"),
        OpsCode("5-470.11", "Appendektomie: Laparoskopisch: Absetzung durch Klammern (Stapler)"), OpsCode("5-820.00", "Implantation einer Endoprothese am Hüftgelenk: Totalendoprothese: Nicht zementiert"),
        OpsCode("1-632.0", "Diagnostische Ösophagogastroduodenoskopie: Bei normalem Situs"),
    ];

    // ICD-10-GM categories, groups and chapters: a code stands for everything under it (CodeHierarchy),
    // the usual way to ask: C50 matches C50.1 ... C50.9, the group C00-C97 every malignant neoplasm.
    public static readonly Concept[] Categories =
    [
        new(Icd10Gm, "C50", "Bösartige Neubildung der Brustdrüse [Mamma]") { English = "Breast cancer" },
        new(Icd10Gm, "D05", "Carcinoma in situ der Brustdrüse [Mamma]") { English = "Breast carcinoma in situ" },
        new(Icd10Gm, "G35", "Multiple Sklerose [Encephalomyelitis disseminata]") { English = "Multiple sclerosis" },
        new(Icd10Gm, "C78", "Sekundäre bösartige Neubildung der Atmungs- und Verdauungsorgane") { English = "Secondary malignant neoplasm of respiratory and digestive organs (metastases)" },
        new(Icd10Gm, "C79", "Sekundäre bösartige Neubildung an sonstigen und nicht näher bezeichneten Lokalisationen") { English = "Secondary malignant neoplasm of other sites (metastases)" },
        new(Icd10Gm, "C00-C97", "Bösartige Neubildungen") { English = "Malignant neoplasms (group)" },
        new(Icd10Gm, "G35-G37", "Demyelinisierende Krankheiten des Zentralnervensystems") { English = "Demyelinating diseases of the central nervous system (group)" },
        new(Icd10Gm, "E10-E14", "Diabetes mellitus") { English = "Diabetes mellitus (group)" },
        new(Icd10Gm, "I10-I15", "Hypertonie [Hochdruckkrankheit]") { English = "Hypertensive diseases (group)" },
        new(Icd10Gm, "II", "Neubildungen (Kapitel II: C00-D48)") { English = "Neoplasms (chapter II)" },
        new(Icd10Gm, "VI", "Krankheiten des Nervensystems (Kapitel VI: G00-G99)") { English = "Diseases of the nervous system (chapter VI)" },
    ];

    /// <summary>ATC groups: a level stands for every substance under it (a moved MS drug under both its groups).</summary>
    public static readonly Concept[] AtcGroups =
    [
        new(Atc, "L04A", "Immunsuppressiva") { English = "Immunosuppressants" },
        new(Atc, "L04AA", "Selektive Immunsuppressiva") { English = "Selective immunosuppressants" },
        new(Atc, "L04AG", "Monoklonale Antikörper") { English = "Monoclonal antibodies (immunosuppressants)" },
        new(Atc, "L03AB", "Interferone") { English = "Interferons" },
        new(Atc, "L02B", "Hormonantagonisten und verwandte Mittel") { English = "Hormone antagonists" },
        new(Atc, "L02BA", "Antiestrogene") { English = "Anti-oestrogens" },
        new(Atc, "L02BG", "Aromatasehemmer") { English = "Aromatase inhibitors" },
        new(Atc, "L02AE", "Gonadotropin-Releasing-Hormon-Analoga") { English = "GnRH analogues" },
        new(Atc, "L01FD", "HER2-Inhibitoren") { English = "HER2 inhibitors" },
        new(Atc, "C10AA", "HMG-CoA-Reduktasehemmer") { English = "Statins" },
        new(Atc, "A10B", "Antidiabetika, exkl. Insuline") { English = "Blood glucose lowering drugs, excl. insulins" },
    ];

    /// <summary>OPS chapters and groups: a chapter or group stands for every code in it.</summary>
    public static readonly Concept[] OpsGroups =
    [
        new(Ops, "5", "Operationen (Kapitel 5)") { English = "Operations (chapter 5)" },
        new(Ops, "8", "Nichtoperative therapeutische Maßnahmen (Kapitel 8)") { English = "Non-operative therapeutic measures (chapter 8)" },
        new(Ops, "5-86...5-88", "Operationen an der Mamma") { English = "Operations on the breast (group)" },
        new(Ops, "5-870", "Partielle (brusterhaltende) Exzision der Mamma und Destruktion von Mammagewebe") { English = "Breast-conserving surgery" },
        new(Ops, "5-872", "(Modifizierte radikale) Mastektomie") { English = "Mastectomy" },
        new(Ops, "5-604", "Radikale Prostatovesikulektomie") { English = "Radical prostatectomy" },
        new(Ops, "8-52", "Strahlentherapie") { English = "Radiotherapy" },
    ];

    // What a researcher can ask for: the criteria codes above, grouped by the resource that carries them
    // (the portal's code search; tests check the generator's output against these groups).
    public static IEnumerable<Concept> Conditions =>
        BreastInvasive.Concat(BreastInSitu).Concat(DistantMetastasis)
            .Concat([Prostate, MsFirst, MsRelapsing, MsRelapsingActive, MsPrimaryProgressive, MsSecondaryProgressive, MsSnomed])
            .Concat(SnomedSubsumption.Edges.Where(e => e.Parent == MsSnomed.Code).Select(e => Sct(e.Child, e.Display)))
            .Concat(Common.Select(d => d.Code)).DistinctBy(c => (c.System, c.Code));

    /// <summary>Observation codes and their UCUM unit; no unit: a coded value (positive/negative, yes, a stage).</summary>
    public static IEnumerable<(Concept Code, Concept? Unit)> Observations =>
        new (Concept, Concept?)[]
        {
            (Psa, NgPerMl), (Ca153, UPerMl), (Cea, NgPerMl), (Hemoglobin, GPerDl), (Creatinine, MgPerDl),
            (GleasonSum, Score), (GleasonPrimary, Score), (GleasonSecondary, Score), (Edss, Score), (T2Lesions, Count), (GdLesions, Count),
            (Her2, null), (Her2Ihc, null), (Her2Fish, null), (EstrogenReceptor, null), (EstrogenReceptorPercent, null),
            (ProgesteroneReceptor, null), (ProgesteroneReceptorPercent, null), (Relapse, null),
            (ClinicalStage, null), (PathologicalStage, null), (CT, null), (CN, null), (CM, null), (PT, null), (PN, null),
            (FollowUp, null), (TumourComponent, null), (NodesComponent, null), (MetastasesComponent, null),
        }.Concat(Common.Where(d => d.Lab is not null).Select(d => ((Concept, Concept?))(d.Lab!.Value.Lab, d.Lab.Value.Unit)))
        .DistinctBy(o => (o.Item1.System, o.Item1.Code));

    /// <summary>Every substance the sites prescribe (each a Medication resource in a site's export), and the ATC groups above them.</summary>
    public static IEnumerable<Concept> Medications => Drugs.Concat(AtcGroups);

    /// <summary>Every substance the sites' data carry, old and new codes of re-coded drugs alike.</summary>
    public static IEnumerable<Concept> Drugs =>
        new[] { Tamoxifen, Anastrozole, Letrozole, Exemestane, TrastuzumabOld, Trastuzumab, Leuprorelin, Goserelin, Bicalutamide, Enzalutamide, Abiraterone, Docetaxel }
            .Concat(FirstLine.Concat(HighEfficacy).Append(Siponimod).SelectMany(d => new[] { d.Old, d.New }))
            .Concat(Common.SelectMany(d => d.Drugs)).DistinctBy(c => (c.System, c.Code));

    public static IEnumerable<Concept> Procedures =>
        BreastConserving.Concat(Mastectomy).Concat(Radiotherapy).Concat(Prostatectomy).Concat(CommonProcedures).Concat(OpsGroups).DistinctBy(c => (c.System, c.Code));

    // Consent.
    // Consent policy codes are written without display (docs/DATA.md has the names): a broad consent repeats them a dozen times.
    public static Concept MiiPolicy(string suffix, string display) => C(MiiConsentPolicy, MiiConsentPolicyPrefix + suffix, "");
    public static readonly Concept IdatCollect = MiiPolicy("2", "IDAT erheben"), IdatStore = MiiPolicy("3", "IDAT speichern, verarbeiten"),
        IdatProvide = MiiPolicy("5", "IDAT bereitstellen EU DSGVO NIVEAU"), MdatCollect = MiiPolicy("6", "MDAT erheben"),
        MdatStore = MiiPolicy("7", "MDAT speichern, verarbeiten"), MdatResearch = MiiPolicy("8", "MDAT wissenschaftlich nutzen EU DSGVO NIVEAU"),
        MdatMerge = MiiPolicy("9", "MDAT zusammenfuehren Dritte"), Recontact = MiiPolicy("37", "Rekontaktierung Ergebnisse erheblicher Bedeutung"),
        CareSharing = C(ConsentPolicy, "care-sharing", "");
    public static readonly JsonEncodedText BroadConsentPolicyUri = P("urn:oid:2.16.840.1.113883.3.1937.777.24.2.1790"),
        CareSharingPolicyUri = P("https://fhir.midia-hub.de/Policy/care-sharing");
}
