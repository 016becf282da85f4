using System.CommandLine;
using Microsoft.Extensions.Configuration;

namespace Midia.Hosting;

/// <summary>
/// The one configuration path of every executable: appsettings.json in the working folder, then
/// MIDIA_-prefixed environment variables, then the flags on the command line (the last wins). A
/// flag's key is its name without dashes, inner dashes as underscores: --linkage-key is
/// "linkage_key", so MIDIA_LINKAGE_KEY or {"linkage_key": "..."}; sections nest as usual
/// (MIDIA_FANOUT__DEADLINE is FanOut:Deadline).
/// </summary>
public static class Setting
{
    /// <summary>appsettings.json and MIDIA_ variables, read once: what a verb falls back to for a flag it was not given.</summary>
    static readonly Lazy<IConfiguration> Files = new(() => new ConfigurationBuilder().AddFilesAndEnvironment().Build());

    public static string Key(Option option) => option.Name.TrimStart('-').Replace('-', '_');

    public static string EnvironmentName(Option option) => "MIDIA_" + Key(option).ToUpperInvariant();

    public static string? Get(ParseResult parse, Option<string> option) =>
        parse.GetValue(option) is { Length: > 0 } value ? value : Files.Value[Key(option)];

    public static string Require(ParseResult parse, Option<string> option) =>
        Get(parse, option) ?? throw new CommandException($"{option.Name} is required (or {EnvironmentName(option)})");

    public static IConfigurationBuilder AddFilesAndEnvironment(this IConfigurationBuilder builder) => builder
        .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
        .AddEnvironmentVariables("MIDIA_");

    /// <summary>The whole path for a host: files, environment, then every flag the command line gave.</summary>
    public static IConfigurationBuilder AddMidiaSettings(this IConfigurationBuilder builder, ParseResult parse)
    {
        var flags = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var result in parse.CommandResult.Children.OfType<System.CommandLine.Parsing.OptionResult>())
            if (!result.Implicit && result.GetValueOrDefault<object?>() is { } value)
                flags[Key(result.Option)] = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture);
        return builder.AddFilesAndEnvironment().AddInMemoryCollection(flags);
    }
}
