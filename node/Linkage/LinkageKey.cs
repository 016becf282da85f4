using System.Text;
using Midia.Hosting;

namespace Midia.Node.Linkage;

/// <summary>
/// The sites' shared linkage secret: the key of the patient pseudonyms that link records across
/// sites. It is read from a file only its owner can read, and never logged or sent.
/// </summary>
public sealed class LinkageKey
{
    public const int MinimumBytes = 32;

    LinkageKey(byte[] secret) => Secret = secret;

    internal byte[] Secret { get; }

    public static LinkageKey Load(string path)
    {
        if (!File.Exists(path)) throw new CommandException($"linkage key file '{path}' not found");
        OwnerOnlyFile.Require(path, "linkage key file");
        var secret = Encoding.UTF8.GetBytes(File.ReadAllText(path).Trim());
        if (secret.Length < MinimumBytes) throw new CommandException($"linkage key file '{path}' holds {secret.Length} bytes; at least {MinimumBytes} are needed");
        return new LinkageKey(secret);
    }

    /// <summary>For tests and the benchmark: a key already in memory.</summary>
    public static LinkageKey FromSecret(ReadOnlySpan<byte> secret) =>
        secret.Length >= MinimumBytes ? new LinkageKey(secret.ToArray()) : throw new ArgumentException($"a linkage key needs at least {MinimumBytes} bytes");

    public override string ToString() => "LinkageKey(secret not shown)";
}
