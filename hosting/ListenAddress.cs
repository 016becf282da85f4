using System.Globalization;
using System.Net;

namespace Midia.Hosting;

/// <summary>HOST:PORT as given on a command line: an IPv4/IPv6 address ([::1]:7101), localhost, or * / 0.0.0.0 for all.</summary>
public static class ListenAddress
{
    public static IPEndPoint Parse(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1) throw new CommandException($"listen address '{text}' must be HOST:PORT");
        var host = text[..colon].Trim('[', ']');
        if (!int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
            throw new CommandException($"listen address '{text}': port must be a number from 0 to 65535");
        var address = host switch
        {
            "*" => IPAddress.Any,
            "localhost" => IPAddress.Loopback,
            _ when IPAddress.TryParse(host, out var ip) => ip,
            _ => throw new CommandException($"listen address '{text}': host must be an IP address, localhost or *"),
        };
        return new IPEndPoint(address, port);
    }
}
