namespace Midia.Cli.Dev.Synth;

public enum Cohort { Background, BreastCancer, ProstateCancer, MultipleSclerosis }

/// <summary>
/// A synthetic person: demographics and person-level traits, drawn from the person's own
/// generator in a fixed order, so every site that sees this person sees the same person and
/// the same disease course (each site then shows its own part of it).
/// </summary>
public sealed class Person
{
    /// <summary>The export date every timeline ends at: a constant, never the wall clock.</summary>
    public static readonly int Reference = Days.From(2025, 6, 30);
    /// <summary>MII broad consent forms came into use here from 2019; the network's care-sharing policy from 2022.</summary>
    public static readonly int BroadConsentEra = Days.From(2019, 1, 1), CareSharingEra = Days.From(2022, 1, 1);

    public const double BreastShare = 0.03, ProstateShare = 0.025, MsShare = 0.025, NoKvnrShare = 0.10;
    public const double BroadConsentShare = 0.85, ResearchRevokedShare = 0.04, TimeLimitedShare = 0.05;
    public const double CareSharingShare = 0.70, CareSharingRevokedShare = 0.04;

    public required PersonRef Ref { get; init; }
    public required Cohort Cohort { get; init; }
    public required bool Female { get; init; }
    public required int BirthDay { get; init; }
    public required string Given { get; init; }
    public required string Family { get; init; }
    public required string? Kvnr { get; init; }
    /// <summary>Diagnosis (or, for the background population, unused).</summary>
    public required int DiagnosisDay { get; init; }
    public required int? DeathDay { get; init; }
    public required bool BroadConsent { get; init; }
    public required bool TimeLimitedConsent { get; init; }
    public required int? ResearchRevokedDay { get; init; }
    public required bool CareSharing { get; init; }
    public required int? CareSharingRevokedDay { get; init; }

    /// <summary>The person's generator, positioned after the demographics: the disease course continues from here.</summary>
    public SeededRandom Random;

    /// <summary>Last day anything can happen: the export date, or death.</summary>
    public int End => DeathDay ?? Reference;

    public int AgeAt(int day) => (int)((day - BirthDay) / 365.25);

    public static Person Create(ulong seed, PersonRef person)
    {
        var r = new SeededRandom(seed, person.Key, 0);
        var roll = r.Unit();
        var cohort = roll < BreastShare ? Cohort.BreastCancer
            : roll < BreastShare + ProstateShare ? Cohort.ProstateCancer
            : roll < BreastShare + ProstateShare + MsShare ? Cohort.MultipleSclerosis
            : Cohort.Background;
        var reference = Reference;
        int birth, diagnosis;
        bool female;
        double deathChance;
        switch (cohort)
        {
            case Cohort.BreastCancer:
                female = r.Chance(0.99);
                diagnosis = reference - r.Between(30, 15 * Days.Year);
                birth = diagnosis - (int)(Math.Clamp(r.Normal(62, 12), 28, 92) * 365.25) - r.Below(365);
                deathChance = 0.08;
                break;
            case Cohort.ProstateCancer:
                female = false;
                diagnosis = reference - r.Between(30, 12 * Days.Year);
                birth = diagnosis - (int)(Math.Clamp(r.Normal(68, 8), 45, 92) * 365.25) - r.Below(365);
                deathChance = 0.12;
                break;
            case Cohort.MultipleSclerosis:
                female = r.Chance(0.70);
                diagnosis = reference - r.Between(60, 22 * Days.Year);
                birth = diagnosis - (int)(Math.Clamp(r.Normal(31, 8), 16, 58) * 365.25) - r.Below(365);
                deathChance = 0.015;
                break;
            default:
                female = r.Chance(0.51);
                var age = r.Chance(0.15) ? r.Between(0, 17) : 18 + (int)(77 * (r.Unit() + r.Unit()) / 2);
                birth = reference - age * Days.Year - r.Below(365);
                diagnosis = reference;
                deathChance = age >= 70 ? 0.06 : 0.003;
                break;
        }
        var given = female ? r.Pick(GermanNames.Female) : r.Pick(GermanNames.Male);
        if (r.Chance(0.2)) given += " " + (female ? r.Pick(GermanNames.Female) : r.Pick(GermanNames.Male));
        var family = r.Pick(GermanNames.Family);
        if (r.Chance(0.04)) family += "-" + r.Pick(GermanNames.Family);
        var kvnr = r.Chance(NoKvnrShare) ? null : Synth.Kvnr.ForPerson(person.Index, seed);

        int? death = null;
        if (r.Chance(deathChance))
        {
            var earliest = cohort == Cohort.Background ? reference - 5 * Days.Year : diagnosis + Days.Year;
            if (earliest < reference - 30) death = r.Between(earliest, reference - 30);
        }

        var broad = r.Chance(BroadConsentShare);
        var timeLimited = broad && r.Chance(TimeLimitedShare);
        int? revoked = broad && !timeLimited && r.Chance(ResearchRevokedShare) ? reference - r.Between(10, 3 * Days.Year) : null;
        var care = r.Chance(CareSharingShare);
        int? careRevoked = care && r.Chance(CareSharingRevokedShare) ? reference - r.Between(10, Days.Year) : null;

        return new Person
        {
            Ref = person, Cohort = cohort, Female = female, BirthDay = birth, Given = given, Family = family, Kvnr = kvnr,
            DiagnosisDay = diagnosis, DeathDay = death, BroadConsent = broad, TimeLimitedConsent = timeLimited,
            ResearchRevokedDay = revoked, CareSharing = care, CareSharingRevokedDay = careRevoked, Random = r,
        };
    }
}
