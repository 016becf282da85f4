using System.Net;
using System.Net.Sockets;

namespace Midia.Portal.Tests.Support;

/// <summary>The test network itself: a port taken between picking and binding does not fail the test that uses it.</summary>
public sealed class PortalTestNetworkTests
{
    [Fact]
    public async Task A_port_taken_by_another_process_is_replaced_by_a_free_one()
    {
        await using var network = new PortalTestNetwork("erlangen");
        var taken = network["erlangen"].Port;
        using var squatter = new TcpListener(IPAddress.Loopback, taken);
        squatter.Start();
        await network.StartAsync();
        Assert.NotEqual(taken, network["erlangen"].Port);
        var sites = System.Text.Json.JsonDocument.Parse(File.ReadAllText(network.SitesFile)).RootElement;
        Assert.Equal(network["erlangen"].Address, sites[0].GetProperty("address").GetString());
    }
}
