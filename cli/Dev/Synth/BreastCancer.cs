using static Midia.Care.Codes.Vocabulary;

namespace Midia.Cli.Dev.Synth;

/// <summary>
/// Breast cancer (C50, in situ D05): receptors, HER2, clinical and pathological TNM, surgery,
/// radiotherapy, endocrine and anti-HER2 therapy, CA 15-3 / CEA series and yearly follow-up
/// assessments, with recurrences (local or distant) for some.
/// </summary>
public static class BreastCancer
{
    static readonly string[] Ts = ["T1", "T1", "T1", "T1", "T2", "T2", "T2", "T2", "T3", "T4"];
    static readonly string[] Ns = ["N0", "N0", "N0", "N0", "N0", "N0", "N1", "N1", "N1", "N2", "N3"];
    static readonly int TrastuzumabRecoded = Days.From(2022, 1, 1);

    public static void Write(SiteChart c)
    {
        var p = c.Person;
        ref var r = ref p.Random;
        var dx = p.DiagnosisDay;
        var end = p.End;
        var inSitu = r.Chance(0.12);
        var diagnosis = inSitu ? r.Pick(BreastInSitu) : r.Pick(BreastInvasive);
        var side = r.Chance(0.5) ? LeftBreast : RightBreast;
        var er = r.Chance(0.75);
        var pr = er ? r.Chance(0.8) : r.Chance(0.1);
        var ihcRoll = r.Unit();
        var ihc = ihcRoll < 0.35 ? 0 : ihcRoll < 0.65 ? 1 : ihcRoll < 0.85 ? 2 : 3;
        var fishAmplified = ihc == 2 && r.Chance(0.3);
        var her2 = !inSitu && (ihc == 3 || fishAmplified);
        var t = inSitu ? "Tis" : r.Pick(Ts);
        var n = inSitu ? "N0" : r.Pick(Ns);
        var metastatic = !inSitu && r.Chance(t is "T3" or "T4" ? 0.15 : 0.04);
        var stage = Stage(t, n, metastatic);

        // recurrence: all who die had one, 15 % of the others within 8 years
        var recurrenceDay = int.MaxValue;
        var distant = r.Chance(0.6);
        if (!inSitu && !metastatic && (p.DeathDay is not null || r.Chance(0.15)))
        {
            var latest = p.DeathDay is { } death ? death - 60 : dx + 8 * Days.Year;
            if (latest > dx + Days.Year) recurrenceDay = r.Between(dx + Days.Year, latest);
        }
        var relapsed = recurrenceDay <= end;

        var status = relapsed || metastatic || dx > Person.Reference - 5 * Days.Year ? ClinicalActive : ClinicalRemission;
        if (c.HoldsDiagnosis()) c.Condition(diagnosis, dx, bodySite: side, clinicalStatus: status);
        if (c.Holds(EventKind.Pathology))
            c.Panel(TnmProfile, Exam, ClinicalStage, dx, new(ClinicalStage, TnmValue(stage)),
                new(CT, TnmValue(t)), new(CN, TnmValue(n)), new(CM, TnmValue(metastatic ? "M1" : "M0")));

        var pathologyDay = dx + r.Between(3, 12);
        if (c.Holds(EventKind.Pathology))
        {
            c.Coded(null, Laboratory, c.Variant == 0 ? EstrogenReceptor : EstrogenReceptorPercent, pathologyDay, er ? Positive : Negative);
            c.Coded(null, Laboratory, c.Variant == 0 ? ProgesteroneReceptor : ProgesteroneReceptorPercent, pathologyDay, pr ? Positive : Negative);
            if (!inSitu)
            {
                c.Coded(null, Laboratory, Her2Ihc, pathologyDay, Her2IhcScores[ihc]);
                if (ihc == 2) c.Coded(null, Laboratory, Her2Fish, pathologyDay, fishAmplified ? Positive : Negative);
                c.Coded(null, Laboratory, Her2, pathologyDay, her2 ? Positive : Negative);
            }
        }

        // surgery for all without distant metastases; breast-conserving more often for small tumours
        var therapyStart = dx + r.Between(14, 50);
        var conserving = r.Chance(inSitu ? 0.8 : t is "T1" or "T2" ? 0.7 : 0.3);
        var operation = conserving ? r.Pick(BreastConserving) : r.Pick(Mastectomy);
        var pt = inSitu ? "Tis" : r.Chance(0.75) ? t : Shift(Ts, t, r.Chance(0.5) ? 1 : -1);
        var pn = inSitu ? "N0" : r.Chance(0.8) ? n : Shift(Ns, n, 1);
        if (!metastatic)
        {
            if (c.Holds(EventKind.Surgery)) c.Procedure(operation, therapyStart, bodySite: side);
            if (c.Holds(EventKind.Pathology))
                c.Panel(TnmProfile, Exam, PathologicalStage, therapyStart + 5, new(PathologicalStage, TnmValue(Stage(pt, pn, false))),
                    new(PT, TnmValue(pt)), new(PN, TnmValue(pn)));
        }
        var radiotherapy = !metastatic && r.Chance(conserving ? 0.95 : pn != "N0" ? 0.6 : 0.15);
        var rtStart = therapyStart + r.Between(28, 56);
        var rtEnd = rtStart + r.Between(25, 42);
        var rtCode = r.Pick(Radiotherapy);
        if (radiotherapy && c.Holds(EventKind.Radiotherapy)) c.Procedure(rtCode, rtStart, rtEnd, side);

        if (her2)
        {
            var start = dx + r.Between(21, 60);
            var stop = start + r.Between(330, 380);
            if (c.Holds(EventKind.Medication)) c.Medication(start < TrastuzumabRecoded ? TrastuzumabOld : Trastuzumab, start, stop);
        }
        if (er || pr)
        {
            var start = (radiotherapy ? rtEnd : therapyStart) + r.Between(14, 60);
            var premenopausal = p.AgeAt(dx) < 50;
            var first = premenopausal || r.Chance(0.2) ? Tamoxifen : r.Pick([Anastrozole, Letrozole, Letrozole, Exemestane]);
            var duration = r.Chance(0.15) ? r.Between(Days.Year, 3 * Days.Year) : r.Between(1640, 2010);
            var switchDay = first == Tamoxifen && r.Chance(0.25) ? start + r.Between(2 * Days.Year, 3 * Days.Year) : int.MaxValue;
            var second = r.Pick([Anastrozole, Letrozole, Exemestane]);
            var stop = Math.Min(start + duration, relapsed ? recurrenceDay + 30 : int.MaxValue);
            if (c.Holds(EventKind.Medication)) c.Medication(first, start, Math.Min(stop, switchDay));
            if (switchDay < stop && c.Holds(EventKind.Medication)) c.Medication(second, switchDay, stop);
        }

        // tumour markers: a baseline, then every 5–9 months, at most eight each
        var day = dx - r.Between(0, 10);
        for (var i = 0; i < 8 && day <= end; i++)
        {
            var high = (relapsed && day >= recurrenceDay - 120) || metastatic;
            var ca153 = Math.Round(high ? r.Between(40, 220) + r.Unit() : Math.Max(4, r.Normal(21, 7)), 1);
            var cea = Math.Round(high ? r.Between(6, 45) + r.Unit() : Math.Max(0.3, r.Normal(2.2, 0.9)), 1);
            if (c.Holds(EventKind.Lab))
            {
                c.Quantity(LabProfile, Laboratory, Ca153, day, ca153, UPerMl);
                c.Quantity(LabProfile, Laboratory, Cea, day, cea, NgPerMl);
            }
            day += r.Between(150, 270);
        }

        // follow-up assessments: yearly; remission until a recurrence, then progression
        day = therapyStart + r.Between(150, 240);
        for (var i = 0; i < 8 && day <= end; i++)
        {
            var afterRecurrence = relapsed && day >= recurrenceDay;
            Concept overall;
            if (afterRecurrence) overall = day - recurrenceDay < Days.Year ? Progression : r.Pick([Progression, NoChange, PartialRemission]);
            else if (metastatic) overall = r.Pick([PartialRemission, NoChange, Progression]);
            else overall = CompleteRemission;
            var tumour = afterRecurrence && !distant ? LocalRecurrence : NoTumour;
            var distantStatus = (afterRecurrence && distant) || metastatic ? NewMetastases : NoTumour;
            if (c.Holds(EventKind.Assessment))
                c.Panel(FollowUpProfile, Exam, FollowUp, day, new(FollowUp, overall),
                    new(TumourComponent, tumour), new(MetastasesComponent, distantStatus));
            day += r.Between(300, 430);
        }

        if (relapsed)
        {
            // the assessment that found it, on the day
            if (c.Holds(EventKind.Assessment))
                c.Panel(FollowUpProfile, Exam, FollowUp, recurrenceDay, new(FollowUp, Progression),
                    new(TumourComponent, distant ? NoTumour : LocalRecurrence), new(MetastasesComponent, distant ? NewMetastases : NoTumour));
            var site = r.Pick(DistantMetastasis);
            if (distant && c.HoldsDiagnosis()) c.Condition(site, recurrenceDay);
        }
    }

    static string Shift(string[] scale, string value, int by)
    {
        string[] order = scale == Ts ? ["T1", "T2", "T3", "T4"] : ["N0", "N1", "N2", "N3"];
        var i = Array.IndexOf(order, value);
        return order[Math.Clamp(i + by, 0, order.Length - 1)];
    }

    /// <summary>UICC stage group from T, N, M (simplified: the common combinations of the 8th edition).</summary>
    internal static string Stage(string t, string n, bool m) => m ? "IV" : t switch
    {
        "Tis" => "0",
        _ when n is "N3" => "IIIC",
        "T4" => "IIIB",
        _ when n is "N2" => "IIIA",
        "T3" => n == "N0" ? "IIB" : "IIIA",
        "T2" => n == "N0" ? "IIA" : "IIB",
        _ => n == "N0" ? "IA" : "IIA",
    };
}
