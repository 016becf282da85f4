using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Midia.Bench.Suite;

/// <summary>What a figure was measured on: cores, memory, OS, load, commit — printed beside every table.</summary>
static class Machine
{
    public static string Describe()
    {
        var cpu = ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        var memKb = ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)) is { } line
            ? long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) : 0;
        var os = ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"')
                 ?? RuntimeInformation.OSDescription;
        var memory = memKb > 0 ? $"{memKb / 1024.0 / 1024.0:0} GiB" : "memory unknown";
        return $"{Environment.ProcessorCount} cores{(cpu is null ? "" : $" ({cpu})")}, {memory}, {os}, .NET {Environment.Version}";
    }

    /// <summary>The 1-minute load average, or "?" off Linux.</summary>
    public static string Load() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    /// <summary>The commit the figures belong to (short hash, "+dirty" with uncommitted changes to
    /// anything but Markdown — editing BENCHMARKS.md's prose does not change a figure); "unknown" outside a git checkout.</summary>
    public static string Commit()
    {
        var hash = Git("rev-parse --short HEAD");
        if (hash is null) return "unknown";
        return Git("status --porcelain --untracked-files=no -- . :!*.md") is { Length: > 0 } ? hash + "+dirty" : hash;
    }

    static string? Git(string arguments)
    {
        try
        {
            var start = new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var git = Process.Start(start)!;
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? output : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
    }

    static IEnumerable<string> ReadLines(string path) => File.Exists(path) ? File.ReadLines(path) : [];
}
