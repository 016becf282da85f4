using Midia.Security.Tests.Support;

namespace Midia.Security.Tests;

/// <summary>What `midia dev up` leaves on disk: every database and every key readable by its owner only.</summary>
[Collection(DemoNetworkCollection.Name)]
public sealed class DemoNetworkFileModeTests(DemoNetwork network)
{
    [Fact]
    public void EverySiteDatabaseTheCoordinatorDatabaseAndEveryKeyIsOwnerOnly()
    {
        if (OperatingSystem.IsWindows()) return; // file modes are a Unix matter
        var files = Directory.GetFiles(network.Dir, "*.db").Concat(Directory.GetFiles(network.Certs, "*.key")).ToList();
        // three site databases, the coordinator's, and ca, coordinator, researcher, 3 x (node, clinician, site-admin), linkage
        Assert.Equal(4 + 3 + 9 + 1, files.Count);
        foreach (var file in files)
            Assert.True(File.GetUnixFileMode(file) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{file} has mode {File.GetUnixFileMode(file)}");
    }
}
