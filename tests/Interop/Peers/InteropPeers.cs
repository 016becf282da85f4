using System.Diagnostics;

namespace Midia.Interop.Peers;

/// <summary>
/// Where the Python and Node peers live and whether they are installed. A missing peer is an
/// error whose message says how to install it: the interop proof never skips silently.
/// </summary>
public static class InteropPeers
{
    public const string Python = "/usr/bin/python3";
    const string PythonPlugin = "/usr/bin/grpc_python_plugin";

    public const string PythonInstallHint =
        "install the Python peer: apt-get update && apt-get install -y python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc (or run .ci/run)";

    public static string NodeInstallHint => $"install the Node peer: apt-get install -y nodejs npm, then `npm ci` in {NodeDirectory} (or run .ci/run)";

    /// <summary>The repository root (the folder holding Midia.Federated.sln), found from the running assembly.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string InteropDirectory => Path.Combine(RepositoryRoot, "tests", "Interop");
    public static string PythonDirectory => Path.Combine(InteropDirectory, "python");
    public static string NodeDirectory => Path.Combine(InteropDirectory, "node");

    /// <summary>Null when /usr/bin/python3 has grpc and protobuf and protoc can make stubs; otherwise what is missing and how to install it.</summary>
    public static string? PythonProblem()
    {
        if (!File.Exists(Python)) return $"{Python} not found; {PythonInstallHint}";
        if (!File.Exists(PythonPlugin)) return $"{PythonPlugin} not found; {PythonInstallHint}";
        if (FindOnPath("protoc") is null) return $"protoc not found on PATH; {PythonInstallHint}";
        var probe = PeerProcess.Run(Python, ["-c", "import grpc, google.protobuf"], InteropDirectory, TimeSpan.FromSeconds(30));
        return probe.ExitCode == 0 ? null : $"{Python} cannot import grpc and google.protobuf ({probe.Stderr.Trim()}); {PythonInstallHint}";
    }

    /// <summary>Null when node runs and grpc-js is installed from the lock file; otherwise what is missing and how to install it.</summary>
    public static string? NodeProblem()
    {
        if (FindOnPath("node") is null) return $"node not found on PATH; {NodeInstallHint}";
        foreach (var package in new[] { "@grpc/grpc-js", "@grpc/proto-loader" })
            if (!File.Exists(Path.Combine(NodeDirectory, "node_modules", package, "package.json")))
                return $"{package} is not installed in {NodeDirectory}/node_modules; {NodeInstallHint}";
        return null;
    }

    public static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);

    static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Midia.Federated.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Midia.Federated.sln above {AppContext.BaseDirectory}");
    }
}

/// <summary>What a finished peer process said.</summary>
public sealed record PeerRun(int ExitCode, string Stdout, string Stderr, bool TimedOut)
{
    public override string ToString() =>
        $"exit {(TimedOut ? "timed out" : ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture))}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";
}

public static class PeerProcess
{
    /// <summary>Runs a program to its end; past the timeout it is killed (with its children) and reported as timed out.</summary>
    public static PeerRun Run(string program, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout)
    {
        using var process = new Process { StartInfo = Start(program, arguments, workingDirectory) };
        process.Start();
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var exited = process.WaitForExit(timeout);
        if (!exited)
        {
            try { process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
            process.WaitForExit();
        }
        process.WaitForExit(); // drains the redirected streams
        return new PeerRun(exited ? process.ExitCode : -1, stdout.Result, stderr.Result, !exited);
    }

    public static ProcessStartInfo Start(string program, IEnumerable<string> arguments, string workingDirectory)
    {
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        return info;
    }
}
