using System.Diagnostics;
using Midia.CertsDev;
using Midia.Portal.Accounts;

namespace Midia.Portal.Tests;

/// <summary>The real `midia-portal` executable: accounts from the command line, and what `serve` refuses before it listens.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class PortalCommandTests : IDisposable
{
    readonly string folder = Path.Combine(Path.GetTempPath(), "midia-portal-cli-" + Guid.NewGuid().ToString("N")[..12]);

    public PortalCommandTests() => Directory.CreateDirectory(folder);

    static (int Exit, string Out, string Err) Run(string? stdin, params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "midia-portal"))
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        if (stdin is not null) process.StandardInput.WriteLine(stdin);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "midia-portal did not finish");
        return (process.ExitCode, output.Result, error.Result);
    }

    [Fact]
    public void Accounts_add_reads_the_password_from_stdin_writes_an_owner_only_file_and_never_echoes_the_kvnr()
    {
        var file = Path.Combine(folder, "accounts.json");
        var (exit, output, error) = Run("a patient's password", "accounts", "add", "--accounts", file, "--user", "pat", "--role", "patient", "--site", "erlangen", "--kvnr", "B987654321");
        Assert.True(exit == 0, error);
        Assert.Contains("account pat (patient, site erlangen)", output);
        Assert.DoesNotContain("B987654321", output + error);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal("B987654321", new AccountStore(file).SignIn("pat", "a patient's password")?.Kvnr);

        (exit, _, error) = Run("a long enough password", "accounts", "add", "--accounts", file, "--user", "bob", "--role", "patient", "--site", "erlangen");
        Assert.Equal(1, exit);
        Assert.Contains("needs a KVNR", error);
        (exit, output, _) = Run(null, "accounts", "list", "--accounts", file);
        Assert.Equal(0, exit);
        Assert.Contains("pat", output);
        Assert.DoesNotContain("bob", output);
        Assert.DoesNotContain("pbkdf2", output);
    }

    [Fact]
    public void Serve_refuses_a_certificate_that_is_not_this_sites_portal_and_a_readable_accounts_file()
    {
        using var ca = DevCertificates.CreateAuthority("CLI Tests CA");
        var caFile = Path.Combine(folder, "ca.crt");
        File.WriteAllText(caFile, ca.ExportCertificatePem());
        string Pem(string role, string name, string? site)
        {
            using var certificate = DevCertificates.Issue(ca, role, name, site);
            DevCertificates.WritePem(certificate, Path.Combine(folder, name + ".crt"), Path.Combine(folder, name + ".key"));
            return Path.Combine(folder, name);
        }
        var accounts = Path.Combine(folder, "accounts.json");
        new AccountStore(accounts).Add("ada", "researcher", null, null, null, "a long password", PasswordHash.MinimumIterations);
        string[] Serve(string prefix, string site) =>
            ["serve", "--site", site, "--listen", "127.0.0.1:0", "--coordinator", "https://127.0.0.1:1", "--node", "https://127.0.0.1:2",
             "--cert", prefix + ".crt", "--key", prefix + ".key", "--ca", caFile, "--accounts", accounts];

        var (exit, _, error) = Run(null, Serve(Pem("node", "node-erlangen", "erlangen"), "erlangen"));
        Assert.Equal(1, exit);
        Assert.Contains("--cert is a node certificate", error);

        (exit, _, error) = Run(null, Serve(Pem("portal", "portal-munich", "munich"), "erlangen"));
        Assert.Equal(1, exit);
        Assert.Contains("--cert is for site 'munich', not --site 'erlangen'", error);

        File.SetUnixFileMode(accounts, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        (exit, _, error) = Run(null, Serve(Pem("portal", "portal-erlangen", "erlangen"), "erlangen"));
        Assert.Equal(1, exit);
        Assert.Contains("chmod 600", error);
    }

    public void Dispose()
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }
}
