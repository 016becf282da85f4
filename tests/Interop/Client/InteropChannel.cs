using System.Globalization;
using Midia.Trust;

namespace Midia.Interop.Client;

/// <summary>
/// Our client's channel to a TestService on this machine: trust/'s <see cref="NetworkChannel"/>,
/// as the product dials, pinned to the interop server certificate (a node of site "interop",
/// valid for 127.0.0.1).
/// </summary>
public static class InteropChannel
{
    public static readonly ServerPin Pin = new("node", "interop");

    public static NetworkChannel ToLoopback(int port, TlsMaterial tls) =>
        NetworkChannel.Open($"https://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", tls, Pin);
}
