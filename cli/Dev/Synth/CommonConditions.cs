using static Midia.Care.Codes.Vocabulary;

namespace Midia.Cli.Dev.Synth;

/// <summary>What everyone may have, disease cohort or not: common chronic conditions, their drugs and labs, routine labs, an operation or a CT now and then.</summary>
public static class CommonConditions
{
    public static void Write(SiteChart c)
    {
        var p = c.Person;
        ref var r = ref p.Random;
        var reference = Person.Reference;
        var age = p.AgeAt(reference);
        var adult = p.BirthDay + 18 * Days.Year;
        // prevalence grows from the young to the old value between 40 and 70
        var ageWeight = Math.Clamp((age - 40) / 30.0, 0, 1);
        foreach (var disorder in Common)
        {
            var chance = age < 18 ? disorder.PrevalenceYoung * 0.3 : disorder.PrevalenceYoung + (disorder.PrevalenceOld - disorder.PrevalenceYoung) * ageWeight;
            if (!r.Chance(chance)) continue;
            var earliest = Math.Max(age < 18 ? p.BirthDay + 2 * Days.Year : adult, reference - 15 * Days.Year);
            if (earliest > reference - 30) continue; // too young to have it yet
            var onset = r.Between(earliest, reference - 30);
            if (c.HoldsDiagnosis()) c.Condition(disorder.Code, onset);
            if (disorder.Drugs.Length > 0 && r.Chance(0.7))
            {
                var drug = r.Pick(disorder.Drugs);
                var start = onset + r.Between(0, 90);
                int? end = r.Chance(0.8) ? null : start + r.Between(180, 3 * Days.Year);
                if (c.Holds(EventKind.Medication)) c.Medication(drug, start, end);
            }
            if (disorder.Lab is { } lab)
            {
                var measurements = r.Between(1, 3);
                for (var i = 0; i < measurements; i++)
                {
                    var day = r.Between(Math.Max(onset, reference - 3 * Days.Year), reference);
                    var value = Math.Round(Math.Max(lab.Mean * 0.3, r.Normal(lab.Mean, lab.Sd)), 1);
                    if (c.Holds(EventKind.Lab)) c.Quantity(LabProfile, Laboratory, lab.Lab, day, value, lab.Unit);
                }
            }
        }

        if (r.Chance(0.45))
        {
            var day = r.Between(Math.Min(reference, Math.Max(p.BirthDay + 30, reference - 4 * Days.Year)), reference);
            var hb = Math.Round(r.Normal(p.Female ? 13.5 : 15.0, 1.1), 1);
            var creatinine = Math.Round(Math.Max(0.4, r.Normal(p.Female ? 0.8 : 1.0, 0.18)), 2);
            if (c.Holds(EventKind.Lab))
            {
                c.Quantity(LabProfile, Laboratory, Hemoglobin, day, hb, GPerDl);
                c.Quantity(LabProfile, Laboratory, Creatinine, day, creatinine, MgPerDl);
            }
        }
        if (age >= 18 && r.Chance(0.06))
        {
            var operation = r.Pick(CommonProcedures);
            var day = r.Between(Math.Max(adult, reference - 10 * Days.Year), reference);
            if (c.Holds(EventKind.Surgery)) c.Procedure(operation, day);
        }
        if (age >= 18 && r.Chance(0.02))
        {
            var day = r.Between(Math.Max(adult, reference - 5 * Days.Year), reference);
            var chest = r.Chance(0.6);
            var instances = r.Between(200, 600);
            if (c.Holds(EventKind.Imaging))
                c.ImagingStudy(ComputedTomography, day, chest ? "CT Thorax nativ" : "CT Abdomen mit Kontrastmittel", instances, chest ? Chest : Abdomen);
        }
    }
}
