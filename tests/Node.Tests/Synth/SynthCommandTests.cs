using System.CommandLine;
using Midia.Cli.Dev;
using Midia.Hosting;

namespace Midia.Node.Tests.Synth;

public sealed class SynthCommandTests
{
    static Task<int> Run(params string[] args)
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(DevCommand.Command());
        return CommandLine.RunAsync(root, args);
    }

    [Fact]
    public async Task SynthWritesSevenFilesPerSiteAndExitsZero()
    {
        var dir = Path.Combine(Path.GetTempPath(), "midia-synth-" + Guid.NewGuid().ToString("N"));
        try
        {
            Assert.Equal(0, await Run("dev", "synth", "--out", dir, "--sites", "a,b", "--patients", "50", "--seed", "3"));
            foreach (var site in new[] { "a", "b" })
            {
                Assert.Equal(8, Directory.GetFiles(Path.Combine(dir, site), "*.ndjson").Length);
                Assert.Equal(50, File.ReadLines(Path.Combine(dir, site, "Patient.ndjson")).Count());
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("--patients", "0")]
    [InlineData("--sites", "Erlangen")]
    [InlineData("--sites", "a,a")]
    [InlineData("--seed", "minus-one")]
    public async Task BadArgumentsFailWithoutWritingAnything(string option, string value)
    {
        var dir = Path.Combine(Path.GetTempPath(), "midia-synth-" + Guid.NewGuid().ToString("N"));
        Assert.NotEqual(0, await Run("dev", "synth", "--out", dir, option, value));
        Assert.False(Directory.Exists(dir));
    }
}
