using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Midia.Hosting;

namespace Midia.Portal.Accounts;

/// <summary>
/// One local account. Patients carry their home site and KVNR (the portal acts for them only at
/// that site); clinicians and site admins their site; researchers none.
/// </summary>
public sealed record Account(
    [property: JsonPropertyName("user")] string User,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("site")] string? Site,
    [property: JsonPropertyName("kvnr")] string? Kvnr,
    [property: JsonPropertyName("hash")] string Hash);

/// <summary>
/// The accounts file: JSON {"accounts": [...]}, readable by its owner only (it holds password
/// hashes and patients' KVNRs). Read at every sign-in, so `midia-portal accounts add` takes
/// effect without a restart; written whole through a temporary file, so a crash leaves the old file.
/// </summary>
public sealed partial class AccountStore(string path)
{
    public static readonly IReadOnlyList<string> Roles = ["researcher", "clinician", "site-admin", "patient"];
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public string Path => path;

    [GeneratedRegex("^[A-Z][0-9]{9}$")]
    private static partial Regex KvnrShape();
    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex UserShape();

    public static bool IsKvnrShape(string kvnr) => KvnrShape().IsMatch(kvnr);

    public IReadOnlyList<Account> Read()
    {
        if (!File.Exists(path)) throw new CommandException($"accounts file {path} does not exist (make it with `midia-portal accounts add`)");
        // Password hashes and patients' KVNRs: owner-only, as the node's keys (the one shared check).
        OwnerOnlyFile.Require(path, "accounts file");
        AccountsFile? file;
        try { file = JsonSerializer.Deserialize<AccountsFile>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new CommandException($"accounts file {path} is not valid JSON: {e.Message}"); }
        var accounts = file?.Accounts ?? [];
        for (var i = 0; i < accounts.Count; i++)
            if (Problem(accounts[i]) is { } problem) throw new CommandException($"accounts file {path}: accounts[{i}]: {problem}");
        return accounts;
    }

    /// <summary>The account if the password is right; null for an unknown user or a wrong password alike.</summary>
    public Account? SignIn(string user, string password)
    {
        var account = Read().FirstOrDefault(a => a.User == user.Trim().ToLowerInvariant());
        // An unknown user costs as much as a wrong password, so timing does not tell which it was.
        if (account is null) { PasswordHash.Verify(password, DummyHash.Value); return null; }
        return PasswordHash.Verify(password, account.Hash) ? account : null;
    }

    static readonly Lazy<string> DummyHash = new(() => PasswordHash.Hash(Guid.NewGuid().ToString()));

    /// <summary>Adds or replaces an account (same user name).</summary>
    public Account Add(string user, string role, string? name, string? site, string? kvnr, string password, int iterations = PasswordHash.DefaultIterations)
    {
        user = user.Trim().ToLowerInvariant();
        if (password.Length < 8) throw new CommandException("the password must have at least 8 characters");
        var account = new Account(user, role, string.IsNullOrWhiteSpace(name) ? user : name.Trim(), string.IsNullOrWhiteSpace(site) ? null : site.Trim(),
            string.IsNullOrWhiteSpace(kvnr) ? null : kvnr.Trim().ToUpperInvariant(), PasswordHash.Hash(password, iterations));
        if (Problem(account) is { } problem) throw new CommandException(problem);
        var accounts = File.Exists(path) ? Read().Where(a => a.User != user).ToList() : [];
        accounts.Add(account);
        Write(accounts);
        return account;
    }

    void Write(List<Account> accounts)
    {
        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        var temporary = full + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temporary, options))
            JsonSerializer.Serialize(stream, new AccountsFile(accounts), Json);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, full, overwrite: true);
    }

    static string? Problem(Account a)
    {
        if (!UserShape().IsMatch(a.User)) return $"user '{a.User}': use 1-64 lower-case letters, digits, '.', '_' or '-'";
        if (!Roles.Contains(a.Role)) return $"user '{a.User}': role '{a.Role}' is not one of {string.Join(", ", Roles)}";
        if (a.Role is "clinician" or "site-admin" or "patient" && a.Site is null) return $"user '{a.User}': a {a.Role} needs a site";
        if (a.Role == "patient" && (a.Kvnr is null || !IsKvnrShape(a.Kvnr))) return $"user '{a.User}': a patient needs a KVNR (one capital letter and 9 digits)";
        if (a.Role != "patient" && a.Kvnr is not null) return $"user '{a.User}': only a patient account carries a KVNR";
        if (!a.Hash.StartsWith(PasswordHash.Scheme + "$", StringComparison.Ordinal)) return $"user '{a.User}': hash is not a {PasswordHash.Scheme} hash";
        return null;
    }

    sealed record AccountsFile([property: JsonPropertyName("accounts")] List<Account> Accounts);
}
