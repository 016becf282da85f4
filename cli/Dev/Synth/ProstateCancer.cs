using static Midia.Care.Codes.Vocabulary;

namespace Midia.Cli.Dev.Synth;

/// <summary>
/// Prostate cancer (C61): a PSA series from the years before diagnosis to the export date,
/// Gleason and TNM at biopsy, then prostatectomy, radiotherapy with ADT, or active
/// surveillance; metastatic disease gets ADT with abiraterone, enzalutamide or docetaxel; some
/// progress (PSA rises again) and get second-line therapy.
/// </summary>
public static class ProstateCancer
{
    static readonly string[] Ts = ["T1c", "T1c", "T1c", "T1c", "T2a", "T2a", "T2b", "T2c", "T2c", "T3a", "T3a", "T3b", "T4"];

    public static void Write(SiteChart c)
    {
        var p = c.Person;
        ref var r = ref p.Random;
        var dx = p.DiagnosisDay;
        var end = p.End;
        var t = r.Pick(Ts);
        var advanced = t is "T3a" or "T3b" or "T4";
        var n = r.Chance(advanced ? 0.25 : 0.05) ? "N1" : "N0";
        var metastatic = r.Chance(advanced ? 0.2 : 0.04);
        var primary = r.Chance(0.55) ? 3 : r.Chance(0.8) ? 4 : 5;
        var secondary = primary == 3 ? (r.Chance(0.6) ? 3 : 4) : r.Chance(0.5) ? primary : Math.Max(3, primary - 1 + r.Below(2));
        var psaAtDiagnosis = metastatic ? r.Between(30, 400) + r.Unit() : Math.Max(4.1, r.Normal(advanced ? 14 : 8, 3));

        // treatment: 0 prostatectomy, 1 radiotherapy with ADT, 2 active surveillance; metastatic: systemic
        var roll = r.Unit();
        var treatment = metastatic ? 3 : roll < 0.5 ? 0 : roll < 0.85 || primary + secondary >= 8 ? 1 : 2;
        var therapyDay = dx + r.Between(30, 90);

        var progressionDay = int.MaxValue;
        if (p.DeathDay is not null || r.Chance(metastatic ? 0.7 : 0.25))
        {
            var latest = p.DeathDay is { } death ? death - 60 : dx + 10 * Days.Year;
            if (latest > therapyDay + Days.Year) progressionDay = r.Between(therapyDay + Days.Year, latest);
        }
        var progressed = progressionDay <= end;

        if (c.HoldsDiagnosis()) c.Condition(Prostate, dx, clinicalStatus: ClinicalActive);
        if (c.Holds(EventKind.Pathology))
        {
            c.Panel(null, Laboratory, GleasonSum, dx, new(GleasonSum, null, primary + secondary, Score),
                new(GleasonPrimary, null, primary, Score), new(GleasonSecondary, null, secondary, Score));
            c.Panel(TnmProfile, Exam, ClinicalStage, dx, new(ClinicalStage, TnmValue(Stage(t, n, metastatic, primary + secondary))),
                new(CT, TnmValue(t)), new(CN, TnmValue(n)), new(CM, TnmValue(metastatic ? "M1" : "M0")));
        }

        var adt = r.Chance(0.5) ? Leuprorelin : Goserelin;
        switch (treatment)
        {
            case 0:
                var operation = r.Pick(Prostatectomy);
                var pt = r.Chance(0.7) ? (t.StartsWith("T1", StringComparison.Ordinal) ? "T2c" : t) : advanced ? "T3b" : "T3a";
                if (c.Holds(EventKind.Surgery)) c.Procedure(operation, therapyDay);
                if (c.Holds(EventKind.Pathology))
                    c.Panel(TnmProfile, Exam, PathologicalStage, therapyDay + 7, new(PathologicalStage, TnmValue(Stage(pt, n, false, primary + secondary))),
                        new(PT, TnmValue(pt)), new(PN, TnmValue(n)));
                break;
            case 1:
                var rtEnd = therapyDay + r.Between(49, 60);
                var rtCode = r.Pick(Radiotherapy);
                var adtStart = Math.Max(dx + 7, therapyDay - 60); // neoadjuvant: ADT starts up to two months before radiotherapy
                var adtEnd = adtStart + r.Between(180, 2 * Days.Year);
                if (c.Holds(EventKind.Radiotherapy)) c.Procedure(rtCode, therapyDay, rtEnd);
                if (c.Holds(EventKind.Medication)) c.Medication(adt, adtStart, adtEnd);
                break;
            case 3:
                var partner = r.Unit();
                var partnerStart = therapyDay + r.Between(0, 90);
                if (c.Holds(EventKind.Medication)) c.Medication(adt, therapyDay, null);
                if (r.Chance(0.5) && c.Holds(EventKind.Medication)) c.Medication(Bicalutamide, therapyDay - 7, therapyDay + 28);
                if (c.Holds(EventKind.Medication))
                {
                    if (partner < 0.4) c.Medication(Abiraterone, partnerStart, null);
                    else if (partner < 0.65) c.Medication(Enzalutamide, partnerStart, null);
                    else c.Medication(Docetaxel, partnerStart, partnerStart + 126);
                }
                break;
        }

        if (progressed)
        {
            // biochemical or clinical progression: second-line therapy
            var second = treatment == 0 && !metastatic && r.Chance(0.6);
            var start = progressionDay + r.Between(14, 90);
            var drug = treatment == 3 ? (r.Chance(0.5) ? Docetaxel : Enzalutamide) : adt;
            var rtCode = r.Pick(Radiotherapy);
            var boneMetastases = r.Chance(metastatic ? 0.8 : 0.3);
            if (second)
            {
                if (c.Holds(EventKind.Radiotherapy)) c.Procedure(rtCode, start, start + 50);
            }
            else if (c.Holds(EventKind.Medication)) c.Medication(drug, start, drug == Docetaxel ? start + 126 : null);
            if (boneMetastases && c.HoldsDiagnosis()) c.Condition(DistantMetastasis[0], progressionDay);
            if (c.Holds(EventKind.Assessment))
                c.Panel(FollowUpProfile, Exam, FollowUp, progressionDay, new(FollowUp, Progression),
                    new(TumourComponent, boneMetastases ? NoTumour : LocalRecurrence), new(MetastasesComponent, boneMetastases ? NewMetastases : NoTumour));
        }

        // follow-up assessments after therapy, about yearly
        var day = therapyDay + r.Between(150, 240);
        for (var i = 0; i < 6 && day <= end && day < progressionDay; i++)
        {
            var overall = treatment == 0 ? CompleteRemission : treatment == 2 ? NoChange : r.Chance(0.6) ? CompleteRemission : PartialRemission;
            if (c.Holds(EventKind.Assessment))
                c.Panel(FollowUpProfile, Exam, FollowUp, day, new(FollowUp, overall),
                    new(TumourComponent, NoTumour), new(MetastasesComponent, metastatic ? NewMetastases : NoTumour));
            day += r.Between(300, 430);
        }

        // PSA series: yearly in the years before diagnosis, then every 4–8 months for five years, then yearly
        day = dx - r.Between(1, 5) * Days.Year + r.Below(60);
        for (var i = 0; i < 24 && day <= end; i++)
        {
            var psa = Psa(day, dx, therapyDay, treatment, psaAtDiagnosis, progressionDay, ref r);
            if (c.Holds(EventKind.Lab)) c.Quantity(LabProfile, Laboratory, Vocabulary.Psa, day, psa, NgPerMl);
            day += day < dx ? r.Between(300, 400) : day < dx + 5 * Days.Year ? r.Between(120, 240) : r.Between(300, 420);
        }
    }

    /// <summary>UICC 8th edition stage group, simplified: N1 or M1 is IV, T3/T4 is IIIB, Gleason 6 in T1/T2a is I, the rest IIA.</summary>
    static string Stage(string t, string n, bool metastatic, int gleason) =>
        metastatic || n == "N1" ? "IV" : t is "T3a" or "T3b" or "T4" ? "IIIB" : gleason <= 6 && t is "T1c" or "T2a" ? "I" : "IIA";

    static double Psa(int day, int dx, int therapyDay, int treatment, double atDiagnosis, int progressionDay, ref SeededRandom r)
    {
        double value;
        if (day < therapyDay)
            value = atDiagnosis * Math.Pow(0.8, Math.Max(0, (dx - day) / 365.0)) * (0.9 + 0.2 * r.Unit());
        else if (day >= progressionDay)
            value = 0.25 * Math.Pow(2, (day - progressionDay) / 240.0) * (0.85 + 0.3 * r.Unit()) + (treatment == 1 ? 1.0 : 0);
        else value = treatment switch
        {
            0 => 0.01 + 0.03 * r.Unit(),
            1 => 0.3 + 1.0 * r.Unit(),
            2 => atDiagnosis * (1 + (day - dx) / 365.0 * 0.08) * (0.9 + 0.2 * r.Unit()),
            _ => 0.5 + 4 * r.Unit(),
        };
        return Math.Round(value, value < 1 ? 2 : 1);
    }
}
