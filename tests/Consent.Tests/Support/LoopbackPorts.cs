using System.Net;
using System.Net.Sockets;

namespace Midia.Consent.Tests.Support;

/// <summary>
/// Ports for test servers that must be named before they bind (a sites file, a node restarted on
/// its port, `dev up --base-port`). A port the kernel hands out (bind to 0) lies in its ephemeral
/// range (32768–60999 on Linux), where any outgoing connection of a test process running beside
/// ours may be given it before we bind again: that was "address already in use" on CI. So ports
/// come from below that range, picked at random (parallel test processes rarely meet) and checked
/// free when picked. Compiled into every suite that starts named servers.
/// </summary>
public static class LoopbackPorts
{
    const int Lowest = 10_000, BelowEphemeral = 32_768;

    /// <summary>One free port.</summary>
    public static int Free() => FreeRange(1);

    /// <summary>A first port with <paramref name="count"/> free ports from it and <paramref name="portals"/> free from first + 101 (where `dev up` puts the portals).</summary>
    public static int FreeRange(int count, int portals = 0)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var first = Random.Shared.Next(Lowest, BelowEphemeral - 101 - Math.Max(count, portals));
            if (Enumerable.Range(first, count).Concat(Enumerable.Range(first + 101, portals)).All(IsFree)) return first;
        }
        throw new InvalidOperationException($"no {count} free ports on 127.0.0.1 between {Lowest} and {BelowEphemeral}");
    }

    static bool IsFree(int port)
    {
        try { using var listener = new TcpListener(IPAddress.Loopback, port); listener.Start(); return true; }
        catch (SocketException) { return false; }
    }
}
