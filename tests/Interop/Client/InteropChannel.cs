using System.Globalization;
using Midia.Rpc.Client;
using Midia.Rpc.Tls;

namespace Midia.Interop.Client;

/// <summary>Our client's channel to a TestService on this machine (the server certificate carries 127.0.0.1).</summary>
public static class InteropChannel
{
    public static RpcChannel ToLoopback(int port, TlsMaterial tls) =>
        RpcChannel.ForAddress($"https://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", new RpcChannelOptions { Tls = tls });
}
