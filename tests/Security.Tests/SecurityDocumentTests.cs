using Midia.Security.Tests.Support;

namespace Midia.Security.Tests;

/// <summary>SECURITY.md shows the very matrix the test enforces: the two cannot drift apart.</summary>
public sealed class SecurityDocumentTests
{
    const string Begin = "<!-- authorization matrix: begin (tests/Security.Tests/AuthorizationMatrixTests.cs Table) -->";
    const string End = "<!-- authorization matrix: end -->";

    [Fact]
    public void SecurityMdCarriesTheMatrixTheTestEnforces()
    {
        var document = File.ReadAllText(Path.Combine(DemoNetwork.Repository(), "SECURITY.md"));
        var begin = document.IndexOf(Begin, StringComparison.Ordinal);
        var end = document.IndexOf(End, StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, $"SECURITY.md must hold the matrix between\n{Begin}\nand\n{End}");
        var documented = MatrixTable.Lines(document[(begin + Begin.Length)..end]);
        var tested = MatrixTable.Lines(AuthorizationMatrixTests.Table);
        Assert.Equal(tested, documented);
        // And it parses: every cell is an outcome the test knows.
        Assert.Equal(11, MatrixTable.Parse(document[(begin + Begin.Length)..end]).Identities.Count);
    }
}
