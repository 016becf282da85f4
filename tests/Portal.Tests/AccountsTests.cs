using Midia.Portal.Accounts;
using Midia.Hosting;

namespace Midia.Portal.Tests;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class AccountsTests : IDisposable
{
    readonly string folder = Path.Combine(Path.GetTempPath(), "midia-portal-accounts-" + Guid.NewGuid().ToString("N")[..12]);
    string File => Path.Combine(folder, "accounts.json");

    public AccountsTests() => Directory.CreateDirectory(folder);

    [Fact]
    public void Hash_is_pbkdf2_sha256_with_salt_and_verifies_only_the_right_password()
    {
        var hash = PasswordHash.Hash("s3cret password", PasswordHash.MinimumIterations);
        var parts = hash.Split('$');
        Assert.Equal(new[] { "pbkdf2-sha256", "100000" }, parts[..2]);
        // Independent evaluation: PBKDF2-HMAC-SHA256 over the stored salt gives the stored hash.
        var expected = System.Security.Cryptography.Rfc2898DeriveBytes.Pbkdf2("s3cret password"u8.ToArray(), Convert.FromBase64String(parts[2]), 100_000,
            System.Security.Cryptography.HashAlgorithmName.SHA256, 32);
        Assert.Equal(Convert.ToBase64String(expected), parts[3]);
        Assert.True(PasswordHash.Verify("s3cret password", hash));
        Assert.False(PasswordHash.Verify("s3cret passwort", hash));
        Assert.NotEqual(hash, PasswordHash.Hash("s3cret password", PasswordHash.MinimumIterations));   // a fresh salt each time
        Assert.Equal(600_000, int.Parse(PasswordHash.Hash("x").Split('$')[1]));
    }

    [Fact]
    public void Weak_or_malformed_stored_hashes_never_verify()
    {
        var weak = System.Security.Cryptography.Rfc2898DeriveBytes.Pbkdf2("pw"u8.ToArray(), new byte[16], 1000, System.Security.Cryptography.HashAlgorithmName.SHA256, 32);
        Assert.False(PasswordHash.Verify("pw", $"pbkdf2-sha256$1000${Convert.ToBase64String(new byte[16])}${Convert.ToBase64String(weak)}"));
        Assert.False(PasswordHash.Verify("pw", "plain:pw"));
        Assert.False(PasswordHash.Verify("pw", "pbkdf2-sha256$100000$***$***"));
    }

    [Fact]
    public void Accounts_file_is_owner_only_and_sign_in_needs_the_right_password()
    {
        var store = new AccountStore(File);
        store.Add("Ada", "researcher", "Dr Ada", null, null, "a long password", PasswordHash.MinimumIterations);
        store.Add("pat", "patient", null, "erlangen", "a123456780", "another password", PasswordHash.MinimumIterations);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(File));
        Assert.Equal("ada", store.SignIn("ADA ", "a long password")?.User);
        Assert.Null(store.SignIn("ada", "a long passwort"));
        Assert.Null(store.SignIn("nobody", "a long password"));
        var patient = store.SignIn("pat", "another password")!;
        Assert.Equal(("patient", "erlangen", "A123456780"), (patient.Role, patient.Site, patient.Kvnr));
        Assert.DoesNotContain("a long password", System.IO.File.ReadAllText(File));
    }

    [Fact]
    public void A_file_others_can_read_is_refused()
    {
        var store = new AccountStore(File);
        store.Add("ada", "researcher", null, null, null, "a long password", PasswordHash.MinimumIterations);
        System.IO.File.SetUnixFileMode(File, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var e = Assert.Throws<CommandException>(() => store.SignIn("ada", "a long password"));
        Assert.Contains("chmod 600", e.Message);
    }

    [Theory]
    [InlineData("bob", "patient", "erlangen", null, "needs a KVNR")]
    [InlineData("bob", "patient", "erlangen", "12345", "needs a KVNR")]
    [InlineData("bob", "clinician", null, null, "needs a site")]
    [InlineData("bob", "node", null, null, "is not one of")]
    [InlineData("Bob Smith", "researcher", null, null, "lower-case")]
    [InlineData("bob", "researcher", null, "A123456780", "only a patient")]
    public void Bad_accounts_are_refused_and_nothing_is_written(string user, string role, string? site, string? kvnr, string problem)
    {
        var e = Assert.Throws<CommandException>(() => new AccountStore(File).Add(user, role, null, site, kvnr, "a long password", PasswordHash.MinimumIterations));
        Assert.Contains(problem, e.Message);
        Assert.False(System.IO.File.Exists(File));
    }

    [Fact]
    public void Short_passwords_are_refused() =>
        Assert.Contains("8 characters", Assert.Throws<CommandException>(() => new AccountStore(File).Add("bob", "researcher", null, null, null, "short", PasswordHash.MinimumIterations)).Message);

    public void Dispose()
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }
}
