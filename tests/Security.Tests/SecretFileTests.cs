using System.Text.Json;
using Midia.CertsDev;
using Midia.Security.Tests.Support;

namespace Midia.Security.Tests;

/// <summary>
/// Issue 8, part 6: private keys, the linkage key and the site database belong to their owner.
/// The product writes them with mode 600, and `midia-node serve` / `midia-coordinator serve`
/// refuse to start on one that its group or other users can read, naming the file and the fix.
/// </summary>
public sealed class SecretFileTests : IDisposable
{
    const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    readonly string dir = Directory.CreateTempSubdirectory("midia-secrets-").FullName;

    string Certs => Path.Combine(dir, "certs");
    string Db => Path.Combine(dir, "erlangen.db");

    [Fact]
    public async Task DevCertsWritesEveryKeyAndTheLinkageKeyOwnerOnly()
    {
        if (OperatingSystem.IsWindows()) return; // file modes are a Unix matter
        var (exit, _, err) = await DemoNetwork.RunAsync("midia", ["dev", "certs", "--out", Certs, "--sites", "erlangen,munich"]);
        Assert.True(exit == 0, err);
        var keys = Directory.GetFiles(Certs, "*.key");
        Assert.Equal(DemoNetwork.DevCertKeys(["erlangen", "munich"]), new SortedSet<string>(keys.Select(Path.GetFileName)!, StringComparer.Ordinal));
        foreach (var key in keys) Assert.True(File.GetUnixFileMode(key) == OwnerOnly, $"{key} has mode {File.GetUnixFileMode(key)}");
    }

    [Fact]
    public async Task ImportCreatesTheSiteDatabaseOwnerOnly()
    {
        if (OperatingSystem.IsWindows()) return;
        await ImportAsync();
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(Db));
        // SQLite gives its WAL and shared-memory files the database file's mode.
        foreach (var companion in new[] { Db + "-wal", Db + "-shm" }.Where(File.Exists))
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(companion));
    }

    public static TheoryData<string, UnixFileMode> ExposedNodeFiles() => new()
    {
        { "node-erlangen.key", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead },
        { "node-erlangen.key", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead },
        { "linkage.key", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead },
        { "linkage.key", UnixFileMode.UserRead | UnixFileMode.OtherRead },
        { "erlangen.db", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite },
        { "erlangen.db", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead },
    };

    [Theory]
    [MemberData(nameof(ExposedNodeFiles))]
    public async Task NodeServeRefusesToStartOnAFileOthersCanRead(string file, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows()) return;
        DevCertificates.CreateNetwork(Certs, ["erlangen"]);
        await ImportAsync();
        var exposed = file.EndsWith(".db", StringComparison.Ordinal) ? Db : Path.Combine(Certs, file);
        File.SetUnixFileMode(exposed, mode);

        var (exit, _, err) = await DemoNetwork.RunAsync("midia-node", ["serve", "--site", "erlangen", "--db", Db, "--listen", "127.0.0.1:0",
            "--cert", Path.Combine(Certs, "node-erlangen.crt"), "--key", Path.Combine(Certs, "node-erlangen.key"), "--ca", Path.Combine(Certs, "ca.crt"),
            "--coordinator", "https://127.0.0.1:9", "--linkage-key", Path.Combine(Certs, "linkage.key")]);
        Assert.NotEqual(0, exit);
        Assert.Contains($"'{exposed}' is readable by other users", err);
        Assert.Contains($"chmod 600 '{exposed}'", err);
    }

    [Fact]
    public async Task CoordinatorServeRefusesToStartOnAKeyItsGroupCanRead()
    {
        if (OperatingSystem.IsWindows()) return;
        DevCertificates.CreateNetwork(Certs, ["erlangen"]);
        var key = Path.Combine(Certs, "coordinator.key");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        File.WriteAllText(Path.Combine(dir, "sites.json"), "[]");

        var (exit, _, err) = await DemoNetwork.RunAsync("midia-coordinator", ["serve", "--listen", "127.0.0.1:0",
            "--cert", Path.Combine(Certs, "coordinator.crt"), "--key", key, "--ca", Path.Combine(Certs, "ca.crt"),
            "--db", Path.Combine(dir, "coordinator.db"), "--sites", Path.Combine(dir, "sites.json")]);
        Assert.NotEqual(0, exit);
        Assert.Contains($"key file '{key}' is readable by other users", err);
        Assert.Contains($"chmod 600 '{key}'", err);
    }

    public static TheoryData<string, UnixFileMode> ExposedPortalFiles() => new()
    {
        { "accounts", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead },
        { "accounts", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead },
        { "key", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead },
        { "key", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead },
    };

    /// <summary>The accounts file holds password hashes and patients' KVNRs: `midia-portal serve` treats it as it treats its key.</summary>
    [Theory]
    [MemberData(nameof(ExposedPortalFiles))]
    public async Task PortalServeRefusesToStartOnAnAccountsFileOrKeyOthersCanRead(string file, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows()) return;
        DevCertificates.CreateNetwork(Certs, ["erlangen"]);
        var accounts = Path.Combine(dir, "portal-erlangen-accounts.json");
        new Midia.Portal.Accounts.AccountStore(accounts).Add("researcher", "researcher", "Dr. Ada Research", null, null, "midia-demo-2026");
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(accounts)); // as `accounts add` writes it
        var key = Path.Combine(Certs, "portal-erlangen.key");
        var exposed = file == "accounts" ? accounts : key;
        File.SetUnixFileMode(exposed, mode);

        var (exit, _, err) = await DemoNetwork.RunAsync("midia-portal", ["serve", "--site", "erlangen", "--listen", "127.0.0.1:0",
            "--coordinator", "https://127.0.0.1:9", "--node", "https://127.0.0.1:9",
            "--cert", Path.Combine(Certs, "portal-erlangen.crt"), "--key", key, "--ca", Path.Combine(Certs, "ca.crt"), "--accounts", accounts]);
        Assert.NotEqual(0, exit);
        Assert.Contains($"'{exposed}' is readable by other users", err);
        Assert.Contains($"chmod 600 '{exposed}'", err);
    }

    /// <summary>`midia-node import` of one synthetic patient into a new site database.</summary>
    async Task ImportAsync()
    {
        var fhir = Directory.CreateDirectory(Path.Combine(dir, "fhir")).FullName;
        File.WriteAllText(Path.Combine(fhir, "Patient.ndjson"),
            JsonSerializer.Serialize(new { resourceType = "Patient", id = "synthetic-1", gender = "female", birthDate = "1970-01-01" }) + "\n");
        var (exit, _, err) = await DemoNetwork.RunAsync("midia-node", ["import", "--db", Db, fhir]);
        Assert.True(exit == 0, err);
    }

    public void Dispose()
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }
}
