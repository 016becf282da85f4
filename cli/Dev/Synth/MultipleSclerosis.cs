using static Midia.Care.Codes.Vocabulary;

namespace Midia.Cli.Dev.Synth;

/// <summary>
/// Multiple sclerosis (G35): relapsing-remitting (some turning secondary progressive) or
/// primary progressive; EDSS every 5–13 months, relapses, MRI studies with T2 and
/// gadolinium-enhancing lesion counts, and disease-modifying therapies that switch over the
/// years. A therapy is coded with the ATC code valid when it was recorded: the pre-2024 code
/// before 2024, the new one from 2024 (a running therapy is often re-recorded in 2024).
/// </summary>
public static class MultipleSclerosis
{
    static readonly int AtcChange = Days.From(2024, 1, 1), OcrelizumabApproval = Days.From(2018, 1, 1);

    public static void Write(SiteChart c)
    {
        var p = c.Person;
        ref var r = ref p.Random;
        var dx = p.DiagnosisDay;
        var end = p.End;
        var primaryProgressive = r.Chance(0.1);
        var secondaryDay = !primaryProgressive && r.Chance(0.35) ? dx + r.Between(8 * Days.Year, 20 * Days.Year) : int.MaxValue;

        // disease-modifying therapy periods (start, end, drug); at most five
        Span<(int Start, int End, int Drug)> therapies = stackalloc (int, int, int)[5];
        var count = 0;
        var day = dx + r.Between(14, 180);
        if (primaryProgressive)
        {
            if (r.Chance(0.6)) therapies[count++] = (Math.Max(day, OcrelizumabApproval), int.MaxValue, DrugIndex(Ocrelizumab));
        }
        else if (r.Chance(0.9))
        {
            var highFirst = r.Chance(0.15);
            while (count < therapies.Length && day <= end)
            {
                var drug = count == 0 && !highFirst ? r.Pick(FirstLine) : r.Pick(HighEfficacy);
                if (drug == Ocrelizumab && day < OcrelizumabApproval) drug = Natalizumab;
                if (day >= secondaryDay && r.Chance(0.5)) drug = Siponimod;
                var duration = drug == Alemtuzumab || drug == Cladribine ? r.Between(400, 800) : r.Between(Days.Year, 6 * Days.Year);
                var stop = r.Chance(0.25) || day + duration > end ? int.MaxValue : day + duration;
                therapies[count++] = (day, stop, DrugIndex(drug));
                if (stop == int.MaxValue) break;
                day = stop + r.Between(14, 120);
            }
        }

        var diagnosis = primaryProgressive ? MsPrimaryProgressive : r.Chance(0.3) ? MsRelapsingActive : MsRelapsing;
        var firstManifestation = !primaryProgressive && r.Chance(0.25) ? dx - r.Between(30, 400) : int.MaxValue;
        if (firstManifestation != int.MaxValue && c.HoldsDiagnosis()) c.Condition(MsFirst, firstManifestation, MsSnomed);
        if (c.HoldsDiagnosis()) c.Condition(diagnosis, dx, MsSnomed);
        if (secondaryDay <= end && c.HoldsDiagnosis()) c.Condition(MsSecondaryProgressive, secondaryDay, MsSnomed);

        for (var i = 0; i < count; i++)
        {
            var (start, stop, index) = therapies[i];
            var drug = Drugs[index];
            int? until = stop == int.MaxValue ? null : stop;
            var recordedAgain = start < AtcChange && (until is null || until >= AtcChange) && r.Chance(0.6);
            if (!c.Holds(EventKind.Medication)) continue;
            if (recordedAgain)
            {
                c.Medication(drug.Old, start, AtcChange - 1);
                c.Medication(drug.New, AtcChange, until);
            }
            else c.Medication(start < AtcChange ? drug.Old : drug.New, start, until);
        }

        // relapses month by month: fewer on therapy, fewer still on high-efficacy therapy, none once progressive
        Span<int> relapses = stackalloc int[40];
        var relapseCount = 0;
        if (!primaryProgressive)
        {
            for (var month = dx - 60; month <= end && relapseCount < relapses.Length; month += 30)
            {
                var rate = month >= secondaryDay ? 0.05 : 0.6;
                for (var i = 0; i < count; i++)
                    if (month >= therapies[i].Start && month < therapies[i].End) rate = Drugs[therapies[i].Drug].HighEfficacy ? 0.1 : 0.3;
                if (r.Chance(rate / 12)) relapses[relapseCount++] = month + r.Below(30);
            }
        }
        foreach (var relapse in relapses[..relapseCount])
            if (c.Holds(EventKind.Assessment)) c.Coded(null, Exam, Relapse, relapse, Yes);

        // EDSS: slow drift, faster once progressive, a step after a relapse
        var baseline = primaryProgressive ? 3.0 + r.Unit() * 1.5 : 1.0 + r.Unit() * 1.5;
        var slope = primaryProgressive ? 0.3 : 0.08 + r.Unit() * 0.1;
        day = dx + r.Below(30);
        for (var i = 0; i < 30 && day <= end; i++)
        {
            var years = (day - dx) / 365.0;
            var value = baseline + slope * years + (day > secondaryDay ? 0.3 * (day - secondaryDay) / 365.0 : 0);
            foreach (var relapse in relapses[..relapseCount])
                if (relapse <= day) value += relapse > day - 90 ? 1.0 : 0.15;
            value += r.Normal(0, 0.3);
            var edss = Math.Clamp(Math.Round(value * 2) / 2, 0, 9.5);
            if (c.Holds(EventKind.Assessment)) c.Quantity(null, Exam, Edss, day, edss, Score);
            day += r.Between(150, 400);
        }

        // MRI at diagnosis, then every 10–24 months; lesion counts come from the study
        var t2 = r.Between(4, 20);
        day = dx - r.Between(0, 30);
        for (var i = 0; i < 15 && day <= end; i++)
        {
            var active = 0;
            foreach (var relapse in relapses[..relapseCount])
                if (relapse <= day && relapse > day - 60) active++;
            var gd = active > 0 ? r.Between(1, 4) : r.Chance(0.08) ? 1 : 0;
            if (i > 0) t2 += gd + (r.Chance(0.3) ? 1 : 0);
            var instances = r.Between(150, 500);
            var contrast = r.Chance(0.8);
            if (c.Holds(EventKind.Imaging))
            {
                var study = c.ImagingStudy(MagneticResonance, day, contrast ? "MRT Schädel nativ und mit Kontrastmittel (MS-Protokoll)" : "MRT Schädel nativ (MS-Protokoll)", instances, Brain);
                c.Quantity(null, Vocabulary.Imaging, T2Lesions, day, t2, Count, study);
                if (contrast) c.Quantity(null, Vocabulary.Imaging, GdLesions, day, gd, Count, study);
            }
            day += r.Between(300, 720);
        }
    }

    static readonly Dmt[] Drugs = [.. FirstLine.Concat(HighEfficacy).Append(Siponimod).Distinct()];
    static int DrugIndex(Dmt drug) => Array.IndexOf(Drugs, drug);
}
