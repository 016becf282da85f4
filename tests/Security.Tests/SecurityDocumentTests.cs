using Midia.Security.Tests.Support;

namespace Midia.Security.Tests;

/// <summary>SECURITY.md shows the very matrices the test enforces: they cannot drift apart.</summary>
public sealed class SecurityDocumentTests
{
    [Theory]
    [InlineData("authorization matrix", nameof(AuthorizationMatrixTests.Table), 11)]
    [InlineData("portal authorization matrix", nameof(AuthorizationMatrixTests.PortalTable), 9)]
    public void SecurityMdCarriesTheMatrixTheTestEnforces(string name, string field, int identities)
    {
        var begin = $"<!-- {name}: begin (tests/Security.Tests/AuthorizationMatrixTests.cs {field}) -->";
        var end = $"<!-- {name}: end -->";
        var tested = field == nameof(AuthorizationMatrixTests.Table) ? AuthorizationMatrixTests.Table : AuthorizationMatrixTests.PortalTable;
        var document = File.ReadAllText(Path.Combine(DemoNetwork.Repository(), "SECURITY.md"));
        var from = document.IndexOf(begin, StringComparison.Ordinal);
        var to = from < 0 ? -1 : document.IndexOf(end, from, StringComparison.Ordinal);
        Assert.True(from >= 0 && to > from, $"SECURITY.md must hold the matrix between\n{begin}\nand\n{end}");
        var documented = document[(from + begin.Length)..to];
        Assert.Equal(MatrixTable.Lines(tested), MatrixTable.Lines(documented));
        // And it parses: every cell is an outcome the test knows.
        Assert.Equal(identities, MatrixTable.Parse(documented).Identities.Count);
    }
}
