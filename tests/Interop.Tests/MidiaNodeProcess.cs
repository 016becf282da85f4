using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Midia.CertsDev;
using Midia.Interop.Peers;
using Midia.Interop.Pki;

namespace Midia.Interop.Tests;

/// <summary>
/// A real `midia-node serve` process (the apphost copied next to these tests) on 127.0.0.1 and a
/// free port, with the PKI's node certificate, over a one-patient synthetic site database.
/// Stopped with SIGTERM (graceful), killed if it does not exit.
/// </summary>
public sealed partial class MidiaNodeProcess : IDisposable
{
    readonly Process process;
    readonly string directory;

    MidiaNodeProcess(Process process, string directory, int port)
    {
        this.process = process;
        this.directory = directory;
        Port = port;
    }

    public int Port { get; }

    public static MidiaNodeProcess Start(ThrowAwayPki pki)
    {
        var directory = Directory.CreateTempSubdirectory("midia-interop-node-").FullName;
        var program = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "midia-node.exe" : "midia-node");
        var input = Directory.CreateDirectory(Path.Combine(directory, "fhir")).FullName;
        // Synthetic: no real person behind it.
        File.WriteAllText(Path.Combine(input, "Patient.ndjson"), """{"resourceType":"Patient","id":"synthetic-1","gender":"female","birthDate":"1970-01-01"}""" + "\n");
        var db = Path.Combine(directory, "site.db");
        var import = PeerProcess.Run(program, ["import", "--db", db, input], directory, TimeSpan.FromMinutes(1));
        if (import.ExitCode != 0) throw new InvalidOperationException($"midia-node import failed: {import}");
        var linkageKey = Path.Combine(directory, "linkage.key");
        DevCertificates.WriteSecret(linkageKey, Convert.ToHexString(RandomNumberGenerator.GetBytes(32)) + "\n");

        var process = Process.Start(PeerProcess.Start(program,
            ["serve", "--site", "interop", "--db", db, "--listen", "127.0.0.1:0", "--cert", pki.ServerCertPath, "--key", pki.ServerKeyPath,
             "--ca", pki.CaPath, "--coordinator", "https://127.0.0.1:9", "--linkage-key", linkageKey], directory))!;
        // The log goes to stderr; stdout is drained so the node never blocks on a full pipe.
        _ = process.StandardOutput.ReadToEndAsync();
        var seen = new List<string>();
        var started = Stopwatch.StartNew();
        while (started.Elapsed < TimeSpan.FromSeconds(60))
        {
            var line = process.StandardError.ReadLineAsync();
            if (!line.Wait(TimeSpan.FromSeconds(60) - started.Elapsed) || line.Result is null) break;
            seen.Add(line.Result);
            if (ListeningLine().Match(line.Result) is { Success: true } match)
            {
                _ = process.StandardError.ReadToEndAsync(); // keep draining the log
                return new MidiaNodeProcess(process, directory, int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
            }
        }
        Stop(process);
        Directory.Delete(directory, recursive: true);
        throw new InvalidOperationException($"midia-node serve did not log its address within 60 s: {string.Join("\n", seen)}");
    }

    public void Dispose()
    {
        Stop(process);
        try { Directory.Delete(directory, recursive: true); }
        catch (IOException) { }
    }

    static void Stop(Process process)
    {
        // SIGTERM: the graceful path an operator's Ctrl-C or service manager takes.
        if (!process.HasExited && !OperatingSystem.IsWindows())
            PeerProcess.Run("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)], Path.GetTempPath(), TimeSpan.FromSeconds(10));
        if (!process.WaitForExit(TimeSpan.FromSeconds(10))) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        process.Dispose();
    }

    [GeneratedRegex(@"listening on https://127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningLine();
}
