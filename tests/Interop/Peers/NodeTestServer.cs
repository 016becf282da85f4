using System.Diagnostics;
using System.Globalization;
using Midia.Interop.Pki;

namespace Midia.Interop.Peers;

/// <summary>
/// tests/Interop/node/server.js (grpc-js TestService over mTLS) on 127.0.0.1 and a free port.
/// It exits when its stdin closes, so even a crashed test run leaves no server behind.
/// </summary>
public sealed class NodeTestServer : IDisposable
{
    readonly Process process;

    NodeTestServer(Process process, int port)
    {
        this.process = process;
        Port = port;
    }

    public int Port { get; }

    public static NodeTestServer Start(ThrowAwayPki pki)
    {
        if (InteropPeers.NodeProblem() is { } problem) throw new InvalidOperationException(problem);
        var process = Process.Start(PeerProcess.Start("node",
            ["server.js", "--host", "127.0.0.1", "--port", "0", "--ca", pki.CaPath, "--cert", pki.ServerCertPath,
             "--key", pki.ServerKeyPath, "--exit-with-stdin", "yes"], InteropPeers.NodeDirectory))!;
        var stderr = process.StandardError.ReadToEndAsync();
        var line = process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(30)) || line.Result is not { } text || !text.StartsWith("listening on ", StringComparison.Ordinal))
        {
            Stop(process);
            throw new InvalidOperationException($"node server.js did not start: {(line.IsCompleted ? line.Result : "no output in 30 s")}\n{(stderr.Wait(2000) ? stderr.Result : "")}");
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        _ = process.StandardOutput.ReadToEndAsync();
        return new NodeTestServer(process, int.Parse(text["listening on ".Length..], CultureInfo.InvariantCulture));
    }

    public void Dispose() => Stop(process);

    static void Stop(Process process)
    {
        try
        {
            process.StandardInput.Close();
            if (!process.WaitForExit(TimeSpan.FromSeconds(5))) process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        catch (InvalidOperationException) { }
        process.Dispose();
    }
}
