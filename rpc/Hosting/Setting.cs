using System.CommandLine;
using Microsoft.Extensions.Configuration;

namespace Midia.Rpc.Hosting;

/// <summary>
/// Where a flag's value comes from when it is not on the command line: the standard .NET
/// configuration — a MIDIA_-prefixed environment variable (--linkage-key -> MIDIA_LINKAGE_KEY),
/// else appsettings.json in the working folder ({"linkage-key": "..."}). One place for every executable.
/// </summary>
public static class Setting
{
    static readonly Lazy<IConfiguration> Configuration = new(() => new ConfigurationBuilder()
        .SetBasePath(Directory.GetCurrentDirectory())
        .AddJsonFile("appsettings.json", optional: true)
        .AddEnvironmentVariables("MIDIA_")
        .Build());

    public static string EnvironmentName(Option option) => "MIDIA_" + Key(option).Replace('-', '_').ToUpperInvariant();

    public static string? Get(ParseResult parse, Option<string> option) =>
        parse.GetValue(option) is { Length: > 0 } value ? value
        : Configuration.Value[Key(option).Replace('-', '_')] ?? Configuration.Value[Key(option)];

    public static string Require(ParseResult parse, Option<string> option) =>
        Get(parse, option) ?? throw new CommandException($"{option.Name} is required (or {EnvironmentName(option)})");

    static string Key(Option option) => option.Name.TrimStart('-');
}
