using System.Text.Json;
using Midia.Node.Store;
using Midia.Portal.Research;

namespace Midia.Node.Tests.Synth;

/// <summary>
/// The researchers' code search offers every code the synthetic sites actually carry: read from the
/// generator's output (not from its vocabulary), each condition, observation, medication and procedure
/// code is found by its code, by its display and by its system.
/// </summary>
public sealed class CodeSearchTests(SynthExport export) : IClassFixture<SynthExport>
{
    static readonly string[] CodedTypes = ["Condition", "Observation", "MedicationStatement", "Procedure"];

    IEnumerable<(string Type, string System, string Code, string? Display)> Written() =>
        CodedTypes.SelectMany(type => export.All(type)
            .SelectMany(r => SynthExport.Codings(export.CodeOf(r.Site, r.Resource)))
            .Select(c => (type, CodeSystems.Canonical(c.GetProperty("system").GetString()!), c.GetProperty("code").GetString()!,
                c.TryGetProperty("display", out var d) ? d.GetString() : null)))
        .Distinct();

    [Fact]
    public void Every_code_the_sites_carry_is_found_by_code_display_and_system()
    {
        var written = Written().ToList();
        foreach (var type in CodedTypes) Assert.Contains(written, w => w.Type == type);
        Assert.True(written.Count > 80, $"only {written.Count} distinct codes written");
        foreach (var (type, system, code, display) in written)
        {
            bool Hit(CatalogueCode c) => c.System == system && c.Code == code;
            Assert.True(CodeCatalogue.Search(code).Any(Hit), $"{type} {system}|{code} not found by its code");
            Assert.True(CodeCatalogue.Search(CatalogueCode.SystemName(system)).Any(Hit), $"{type} {system}|{code} not found by its system");
            if (!string.IsNullOrEmpty(display)) Assert.True(CodeCatalogue.Search(display).Any(Hit), $"{type} {system}|{code} not found by '{display}'");
        }
    }

    [Fact]
    public void Codes_offered_for_observations_take_the_unit_the_sites_write()
    {
        // valueQuantity.unit as written, per observation code: the builder's quantity filter must use the same unit.
        var units = export.All("Observation")
            .Where(r => r.Resource.TryGetProperty("valueQuantity", out _))
            .Select(r => (Coding: SynthExport.Codings(r.Resource.GetProperty("code")).First(), Unit: r.Resource.GetProperty("valueQuantity").GetProperty("code").GetString()))
            .Select(o => (System: CodeSystems.Canonical(o.Coding.GetProperty("system").GetString()!), Code: o.Coding.GetProperty("code").GetString()!, o.Unit))
            .Distinct().ToList();
        Assert.NotEmpty(units);
        foreach (var (system, code, unit) in units)
        {
            var offered = Assert.Single(CodeCatalogue.Codes, c => c.System == system && c.Code == code);
            Assert.Equal(("quantity", unit), (offered.Filter, offered.Unit));
        }
    }
}
