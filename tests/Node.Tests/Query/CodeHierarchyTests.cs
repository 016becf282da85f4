using Midia.Care.Codes;
using Xunit;

namespace Midia.Node.Tests.Query;

/// <summary>
/// What a query code stands for, read from the code itself (CodeHierarchy), against expectations
/// written here by hand from the classifications: ICD-10-GM chapters and groups, OPS chapters and
/// groups, ATC levels with the re-coded drugs, the shipped SNOMED CT table; and that the portal's
/// code search offers the groups the engine understands.
/// </summary>
public sealed class CodeHierarchyTests
{
    const string Icd = Vocabulary.Icd10Gm, Ops = Vocabulary.Ops, Atc = Vocabulary.Atc, Snomed = Vocabulary.Snomed, Loinc = Vocabulary.Loinc;

    [Theory]
    [InlineData(Icd, "C50", "C50|C50.4|C50.41", "C5|C51|C49.9|D05")]
    [InlineData(Icd, "C50.-", "C50|C50.9", "C51")]
    [InlineData(Icd, "II", "C00|C50.4|D48.9|D00.1", "B99|D50|E11.9")]
    [InlineData(Icd, "2", "C00.0|D48.1", "D49|D50")]
    [InlineData(Icd, "02", "C00.0|D48.1", "D50")]
    [InlineData(Icd, "IV", "E00|E11.90|E90", "E91|D90")]
    [InlineData(Icd, "XIX", "S00.0|T98.3", "T99|U00")]
    [InlineData(Icd, "C00-C97", "C00|C50.4|C97", "C98|D00.0|B99")]
    [InlineData(Icd, "C50-C50", "C50|C50.41", "C51|C49")]
    [InlineData(Vocabulary.Icd10Who, "I20-I25", "I21.9|I25", "I26|I19")]
    [InlineData(Ops, "5", "5-870.a1|5-01", "8-522.91|1-650.2")]
    [InlineData(Ops, "5-86...5-88", "5-86|5-870.a1|5-872.0|5-889", "5-85|5-890|5-604.02")]
    [InlineData(Ops, "8-52", "8-52|8-522.91|8-523.0", "8-53|8-5")]
    [InlineData(Atc, "L04AA", "L04AA36|L04AA40|L04AG08|L04AG03|L04AG06|L04AE01|L04AE03|L04AK02", "L04AX07|N07XX09|L04AB01")]
    [InlineData(Atc, "L04AG", "L04AG08|L04AA36|L04AA23|L04AA34", "L04AA27|L04AA40")]
    [InlineData(Atc, "N07XX", "N07XX09|L04AX07", "L04AA36")]
    [InlineData(Atc, "L01F", "L01FD01|L01XC03", "L01CD02")]
    [InlineData(Atc, "L04AA36", "L04AA36|L04AG08", "L04AA23")]
    [InlineData(Snomed, "24700007", "24700007|426373005|425500002|428700003", "230258005")]
    [InlineData(Snomed, "123038009", "119297000|119364003|119361006|119376003|122575003", "80248007")]
    [InlineData(Snomed, "119297000", "119364003|119361006", "119376003")]
    [InlineData(Snomed, "76752008", "80248007|73056007", "12738006")]
    [InlineData(Loinc, "2857-1", "2857-1", "2857-10|2857")]
    public void AQueryCodeStandsForItselfAndWhatIsUnderIt(string system, string code, string matches, string others)
    {
        foreach (var stored in matches.Split('|')) Assert.True(CodeHierarchy.Matches(system, code, stored), $"{code} should include {stored}");
        foreach (var stored in others.Split('|')) Assert.False(CodeHierarchy.Matches(system, code, stored), $"{code} should not include {stored}");
    }

    [Fact]
    public void EverySnomedEdgeOfTheTableNamesItsConceptsAndTheClosureIsTransitive()
    {
        foreach (var (parent, child, _) in SnomedSubsumption.Edges)
        {
            Assert.Contains(parent, SnomedSubsumption.Displays.Keys);
            Assert.Contains(child, SnomedSubsumption.Displays.Keys);
            Assert.Contains(child, SnomedSubsumption.Descendants(parent));
            foreach (var below in SnomedSubsumption.Descendants(child)) Assert.Contains(below, SnomedSubsumption.Descendants(parent));
        }
        Assert.Empty(SnomedSubsumption.Descendants("10828004"));
    }

    [Fact]
    public void ThePortalsCodeSearchOffersTheGroupsTheEngineExpands()
    {
        var catalogue = Midia.Portal.Research.CodeCatalogue.Codes;
        foreach (var (context, system, code) in new[]
        {
            ("Medikamentenverabreichung", Atc, "L04AA"), ("Medikamentenverabreichung", Atc, "L02BG"), ("Diagnose", Icd, "C00-C97"),
            ("Diagnose", Icd, "II"), ("Prozedur", Ops, "5-86...5-88"), ("Diagnose", Snomed, "426373005"),
        })
            Assert.Contains(catalogue, c => c.Context == context && c.System == system && c.Code == code);
        // Each group the search offers stands for more than itself.
        foreach (var group in Vocabulary.AtcGroups.Concat(Vocabulary.OpsGroups).Concat(Vocabulary.Categories))
            Assert.True(CodeHierarchy.Spans(group.System, group.Code).Any(s => s.Until is not null), $"{group.Code} is not a group");
        Assert.Contains(Midia.Portal.Research.CodeCatalogue.Search("Aromatasehemmer"), c => c.Code == "L02BG");
    }
}
