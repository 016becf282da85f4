using System.CommandLine;

namespace Midia.Cli.Dev;

/// <summary>`midia dev ...`: development certificates, synthetic data and the demo network.</summary>
public static class DevCommand
{
    public static Command Command()
    {
        var dev = new Command("dev", "Developer tools: dev certificates, synthetic data, the demo network (never for production)");
        // one line per dev tool:
        dev.Subcommands.Add(CertsCommands.Certs());
        dev.Subcommands.Add(CertsCommands.IssueCert());
        dev.Subcommands.Add(Synth.SynthCommand.Command());
        dev.Subcommands.Add(DevUp.Command());
        return dev;
    }
}
