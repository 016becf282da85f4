using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Midia.Portal.Accounts;

/// <summary>
/// Passwords as PBKDF2-HMAC-SHA256 hashes: "pbkdf2-sha256$ITERATIONS$SALT$HASH" (base64). The
/// iteration count travels with the hash, so it can be raised later without breaking old accounts.
/// </summary>
public static class PasswordHash
{
    public const string Scheme = "pbkdf2-sha256";
    /// <summary>OWASP's 2023 figure for PBKDF2-HMAC-SHA256.</summary>
    public const int DefaultIterations = 600_000;
    public const int MinimumIterations = 100_000;
    const int SaltBytes = 16, HashBytes = 32;

    public static string Hash(string password, int iterations = DefaultIterations)
    {
        if (iterations < MinimumIterations) throw new ArgumentOutOfRangeException(nameof(iterations), $"at least {MinimumIterations} iterations");
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
        return $"{Scheme}${iterations.ToString(CultureInfo.InvariantCulture)}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    /// <summary>Constant-time comparison; a malformed or weak stored hash never verifies.</summary>
    public static bool Verify(string password, string stored)
    {
        var parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] != Scheme) return false;
        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations < MinimumIterations) return false;
        byte[] salt, expected;
        try { salt = Convert.FromBase64String(parts[2]); expected = Convert.FromBase64String(parts[3]); }
        catch (FormatException) { return false; }
        if (salt.Length < 8 || expected.Length < 16) return false;
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }
}
