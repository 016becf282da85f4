using Midia.Security.Tests.Support;

namespace Midia.Security.Tests;

/// <summary>What `midia dev up` leaves on disk: every database, every key and every portal accounts file readable by its owner only.</summary>
[Collection(DemoNetworkCollection.Name)]
public sealed class DemoNetworkFileModeTests(DemoNetwork network)
{
    [Fact]
    public void EverySiteDatabaseTheCoordinatorDatabaseEveryKeyAndEveryAccountsFileIsOwnerOnly()
    {
        if (OperatingSystem.IsWindows()) return; // file modes are a Unix matter
        // What dev up is documented to make: a database per site and the coordinator's, the dev
        // certificates' keys for its sites, and an accounts file (password hashes, patients' KVNRs) per portal.
        var expected = new SortedSet<string>(StringComparer.Ordinal) { network.Db("coordinator") };
        foreach (var site in DemoNetwork.Sites) expected.Add(network.Db(site));
        foreach (var key in DemoNetwork.DevCertKeys(DemoNetwork.Sites)) expected.Add(Path.Combine(network.Certs, key));
        foreach (var site in DemoNetwork.PortalSites) expected.Add(network.PortalAccounts(site));

        var secrets = Directory.GetFiles(network.Dir, "*.db").Concat(Directory.GetFiles(network.Certs, "*.key"))
            .Concat(Directory.GetFiles(network.Dir, "portal-*-accounts.json"));
        Assert.Equal(expected, new SortedSet<string>(secrets, StringComparer.Ordinal));
        foreach (var file in expected)
            Assert.True(File.GetUnixFileMode(file) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{file} has mode {File.GetUnixFileMode(file)}");
    }
}
