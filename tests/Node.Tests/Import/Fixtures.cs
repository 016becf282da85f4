namespace Midia.Node.Tests.Import;

/// <summary>Hand-written FHIR R4 resources in the shape of the MII profiles.</summary>
static class Fixtures
{
    public const string PatientP1 = """
        {"resourceType":"Patient","id":"p1",
         "identifier":[{"system":"http://fhir.de/sid/gkv/pseudo-kvid","value":"xyz"},
                       {"system":"http://fhir.de/sid/gkv/kvid-10","value":"A123456780"}],
         "name":[{"use":"official","family":"Muster","given":["Erika","Maria"]}],
         "gender":"female","birthDate":"1961-07-15","deceasedBoolean":false}
        """;

    public const string PatientP2 = """
        {"resourceType":"Patient","id":"p2","gender":"male","birthDate":"1950",
         "deceasedDateTime":"2021-02-03T04:05:06+01:00"}
        """;

    public const string PatientP3 = """
        {"resourceType":"Patient","id":"p3","gender":"other","birthDate":"1975-03","deceasedBoolean":true}
        """;

    public static readonly string[] Patients = [PatientP1, PatientP2, PatientP3];

    public const string ConditionC1 = """
        {"resourceType":"Condition","id":"c1",
         "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
         "verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]},
         "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}],
         "severity":{"coding":[{"system":"http://snomed.info/sct","code":"24484000"}]},
         "code":{"coding":[{"system":"http://fhir.de/CodeSystem/dimdi/icd-10-gm","version":"2019","code":"C50.4","display":"Bösartige Neubildung: Oberer äußerer Quadrant der Brustdrüse"},
                           {"system":"http://snomed.info/sct","code":"254837009","display":"Malignant neoplasm of breast"}]},
         "bodySite":[{"coding":[{"system":"http://snomed.info/sct","code":"80248007"}]}],
         "subject":{"reference":"Patient/p1"},
         "onsetDateTime":"2019-03-04T10:00:00+01:00","recordedDate":"2019-04-01",
         "stage":[{"summary":{"coding":[{"system":"http://snomed.info/sct","code":"261614003"}]}},
                  {"summary":{"coding":[{"system":"https://www.uicc.org/resources/tnm","code":"IIA"}]}}]}
        """;

    public const string ConditionC2 = """
        {"resourceType":"Condition","id":"c2","code":{"coding":[{"system":"http://fhir.de/CodeSystem/bfarm/icd-10-gm","code":"G35"}]},
         "subject":{"reference":"https://ehr.example.org/fhir/Patient/p2"},
         "onsetPeriod":{"start":"2015-06"},"recordedDate":"2016-01-01"}
        """;

    public const string ConditionC3 = """
        {"resourceType":"Condition","id":"c3","code":{"coding":[{"system":"urn:example:local-diagnoses","code":"X1"},{"code":"no-system"}],"text":"local"},
         "subject":{"reference":"Patient/p3"},"recordedDate":"2020-01-01"}
        """;

    public const string ObservationPsa = """
        {"resourceType":"Observation","id":"o1","status":"final",
         "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
         "code":{"coding":[{"system":"http://loinc.org","code":"2857-1","display":"PSA"}]},
         "subject":{"reference":"Patient/p2"},"effectiveDateTime":"2020-05-06T07:00:00+02:00",
         "valueQuantity":{"value":4.25,"unit":"ng/ml","system":"http://unitsofmeasure.org","code":"ng/mL"},
         "method":{"coding":[{"system":"http://snomed.info/sct","code":"702659008"}]},
         "interpretation":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation","code":"H"}]}],
         "bodySite":{"coding":[{"system":"http://snomed.info/sct","code":"41216001"}]}}
        """;

    public const string ObservationEdss = """
        {"resourceType":"Observation","id":"o2","status":"final",
         "code":{"coding":[{"system":"https://fhir.midia-hub.de/CodeSystem/ms-assessment","code":"edss"}]},
         "subject":{"reference":"Patient/p2"},"effectivePeriod":{"start":"2021-01","end":"2021-02"},
         "valueQuantity":{"value":3.5,"unit":"score"}}
        """;

    public const string ObservationCoded = """
        {"resourceType":"Observation","id":"o3","status":"amended",
         "code":{"coding":[{"system":"http://loinc.org","code":"48676-1"},{"system":"http://loinc.org","code":"85319-2"}]},
         "subject":{"reference":"Patient/p1"},"issued":"2019-03-10T12:00:00Z",
         "valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"10828004"},{"system":"http://loinc.org","code":"LA6576-8"}]}}
        """;

    public const string ObservationInteger = """
        {"resourceType":"Observation","id":"o4","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"lesions"}]},
         "subject":{"reference":"Patient/p1"},"effectiveDateTime":"2022","valueInteger":3}
        """;

    public const string ObservationDecimal = """
        {"resourceType":"Observation","id":"o5","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"6875-9"}]},
         "subject":{"reference":"Patient/p1"},"effectiveInstant":"2022-02-02T02:02:02Z","valueDecimal":2.5}
        """;

    public const string ObservationTnm = """
        {"resourceType":"Observation","id":"o6","status":"final",
         "code":{"coding":[{"system":"http://loinc.org","code":"21908-9"}]},
         "subject":{"reference":"Patient/p1"},"effectiveDateTime":"2019-03-20",
         "valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"1222806003"}]},
         "component":[
           {"code":{"coding":[{"system":"http://snomed.info/sct","code":"399504009"}]},"valueCodeableConcept":{"coding":[{"system":"https://www.uicc.org/resources/tnm","code":"T2"}]}},
           {"code":{"coding":[{"system":"http://snomed.info/sct","code":"399534004"}]},"valueQuantity":{"value":1,"code":"{count}"}}]}
        """;

    public static readonly string[] Observations = [ObservationPsa, ObservationEdss, ObservationCoded, ObservationInteger, ObservationDecimal, ObservationTnm];

    public const string StatementCoded = """
        {"resourceType":"MedicationStatement","id":"m1","status":"active",
         "medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"L04AA36","display":"ocrelizumab"}]},
         "subject":{"reference":"Patient/p2"},"effectivePeriod":{"start":"2019-01-15","end":"2023-06-30"},"dateAsserted":"2019-01-01"}
        """;

    public const string StatementContained = """
        {"resourceType":"MedicationStatement","id":"m2","status":"active",
         "contained":[{"resourceType":"Medication","id":"other","code":{"coding":[{"system":"http://fhir.de/CodeSystem/bfarm/atc","code":"N02BE01"}]}},
                      {"resourceType":"Medication","id":"med","code":{"coding":[{"system":"http://fhir.de/CodeSystem/bfarm/atc","code":"L02BA01","display":"tamoxifen"}]}}],
         "medicationReference":{"reference":"#med"},
         "subject":{"reference":"Patient/p1"},"effectiveDateTime":"2019-05-01"}
        """;

    public const string StatementAsserted = """
        {"resourceType":"MedicationStatement","id":"m3","status":"active",
         "medicationCodeableConcept":{"coding":[{"system":"http://fhir.de/CodeSystem/dimdi/atc","code":"L02BG03"}]},
         "subject":{"reference":"Patient/p1"},"dateAsserted":"2020-07"}
        """;

    public const string Administration = """
        {"resourceType":"MedicationAdministration","id":"ma1","status":"completed",
         "medicationCodeableConcept":{"coding":[{"system":"http://fhir.de/CodeSystem/bfarm/atc","code":"L01FD01"}]},
         "subject":{"reference":"Patient/p1"},"effectivePeriod":{"start":"2019-06-01T09:00:00+02:00","end":"2019-06-01T11:00:00+02:00"}}
        """;

    public const string ProcedurePeriod = """
        {"resourceType":"Procedure","id":"pr1","status":"completed",
         "category":{"coding":[{"system":"http://snomed.info/sct","code":"387713003"}]},
         "code":{"coding":[{"system":"http://fhir.de/CodeSystem/dimdi/ops","code":"5-870.a2"}]},
         "bodySite":[{"coding":[{"system":"http://snomed.info/sct","code":"80248007"}]}],
         "subject":{"reference":"Patient/p1"},"performedPeriod":{"start":"2019-04-02","end":"2019-04-03"}}
        """;

    public const string ProcedureDateTime = """
        {"resourceType":"Procedure","id":"pr2","status":"completed",
         "code":{"coding":[{"system":"http://fhir.de/CodeSystem/bfarm/ops","code":"8-522"}]},
         "subject":{"reference":"Patient/p2"},"performedDateTime":"2020-09-09T10:00:00+02:00"}
        """;

    public const string Imaging = """
        {"resourceType":"ImagingStudy","id":"i1","status":"available","subject":{"reference":"Patient/p2"},
         "started":"2022-05-06T08:00:00Z","description":"MRT Schädel",
         "modality":[{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"MR"}],
         "series":[{"uid":"1.2.3","modality":{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"MR"}},
                   {"uid":"1.2.4","modality":{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"CT"}}]}
        """;

    public const string ConsentActive = """
        {"resourceType":"Consent","id":"k1","status":"active",
         "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"research"}]},
         "patient":{"reference":"Patient/p1"},"dateTime":"2020-01-01",
         "provision":{"type":"deny","period":{"start":"2020-01-01","end":"2050-01-01"},
           "provision":[
             {"type":"permit","period":{"start":"2020-01-01","end":"2025-12-31"},
              "code":[{"coding":[{"system":"urn:oid:2.16.840.1.113883.3.1937.777.24.5.3","code":"2.16.840.1.113883.3.1937.777.24.5.3.8"}]}]},
             {"type":"permit",
              "code":[{"coding":[{"system":"urn:oid:2.16.840.1.113883.3.1937.777.24.5.3","code":"2.16.840.1.113883.3.1937.777.24.5.3.7"}]}]},
             {"type":"deny","period":{"start":"2021-01-01"},
              "code":[{"coding":[{"system":"https://fhir.midia-hub.de/CodeSystem/consent-policy","code":"care-sharing"}]},
                      {"coding":[{"system":"urn:example:other","code":"ignored"}]}]}]}}
        """;

    public const string ConsentInactive = """
        {"resourceType":"Consent","id":"k2","status":"inactive","patient":{"reference":"Patient/p2"},
         "provision":{"type":"deny","provision":[{"type":"permit","code":[{"coding":[{"system":"urn:oid:2.16.840.1.113883.3.1937.777.24.5.3","code":"2.16.840.1.113883.3.1937.777.24.5.3.8"}]}]}]}}
        """;

    /// <summary>The whole hand-written export, a file per type as a Bulk Data export writes it.</summary>
    public static void WriteExport(SiteFixture site, string folder = "export")
    {
        site.WriteNdjson($"{folder}/Patient.ndjson", Patients);
        site.WriteNdjson($"{folder}/Condition.ndjson", ConditionC1, ConditionC2, ConditionC3);
        site.WriteNdjson($"{folder}/Observation.ndjson", Observations);
        site.WriteNdjson($"{folder}/MedicationStatement.ndjson", StatementCoded, StatementContained, StatementAsserted);
        site.WriteNdjson($"{folder}/MedicationAdministration.ndjson", Administration);
        site.WriteNdjson($"{folder}/Procedure.ndjson", ProcedurePeriod, ProcedureDateTime);
        site.WriteNdjson($"{folder}/ImagingStudy.ndjson", Imaging);
        site.WriteNdjson($"{folder}/Consent.ndjson", ConsentActive, ConsentInactive);
    }
}
