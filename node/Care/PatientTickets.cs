using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Midia.Node.Care;

/// <summary>What a sealed ticket says: which patient, issued to which clinician, until when.</summary>
public sealed record PatientTicket(long Pid, string Linkage, string Clinician, string ClinicianSite, DateTimeOffset Expires);

/// <summary>
/// Tickets a node issues when its own clinician resolves a patient: AES-GCM sealed with a key
/// that exists only in this process, so only this node can open them (a restart simply makes
/// the clinician resolve again). The coordinator carries the ticket without being able to read
/// the patient or linkage in it; the clinician cannot forge or alter one.
/// Layout: base64url(nonce 12 | ciphertext | tag 16); plaintext: version 1, expiry (unix ms),
/// pid, then linkage, clinician, clinician site as length-prefixed UTF-8.
/// </summary>
public sealed class PatientTickets(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);
    const byte Version = 1;
    const int NonceBytes = 12, TagBytes = 16;
    static readonly byte[] Purpose = "midia patient ticket v1"u8.ToArray();

    readonly byte[] key = RandomNumberGenerator.GetBytes(32);

    public PatientTickets() : this(TimeProvider.System) { }

    public (string Ticket, DateTimeOffset Expires) Issue(long pid, string linkage, string clinician, string clinicianSite)
    {
        var expires = time.GetUtcNow() + Lifetime;
        using var plain = new MemoryStream();
        plain.WriteByte(Version);
        Span<byte> number = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(number, expires.ToUnixTimeMilliseconds());
        plain.Write(number);
        BinaryPrimitives.WriteInt64BigEndian(number, pid);
        plain.Write(number);
        foreach (var text in new[] { linkage, clinician, clinicianSite })
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            BinaryPrimitives.WriteInt32BigEndian(number, bytes.Length);
            plain.Write(number[..4]);
            plain.Write(bytes);
        }
        var payload = plain.ToArray();
        var sealedTicket = new byte[NonceBytes + payload.Length + TagBytes];
        var nonce = sealedTicket.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagBytes);
        aes.Encrypt(nonce, payload, sealedTicket.AsSpan(NonceBytes, payload.Length), sealedTicket.AsSpan(NonceBytes + payload.Length), Purpose);
        return (Base64Url(sealedTicket), DateTimeOffset.FromUnixTimeMilliseconds(expires.ToUnixTimeMilliseconds()));
    }

    /// <summary>The ticket's content, or null when this node (in this process) did not issue it or it was altered.</summary>
    public PatientTicket? Open(string ticket)
    {
        byte[] sealedTicket;
        try { sealedTicket = FromBase64Url(ticket.Trim()); }
        catch (FormatException) { return null; }
        // Only the spelling this node issued: base64 ignores a last character's spare bits, so
        // another spelling of the same bytes would otherwise open as well.
        if (Base64Url(sealedTicket) != ticket.Trim()) return null;
        if (sealedTicket.Length < NonceBytes + TagBytes + 1) return null;
        var length = sealedTicket.Length - NonceBytes - TagBytes;
        var payload = new byte[length];
        try
        {
            using var aes = new AesGcm(key, TagBytes);
            aes.Decrypt(sealedTicket.AsSpan(0, NonceBytes), sealedTicket.AsSpan(NonceBytes, length), sealedTicket.AsSpan(NonceBytes + length), payload, Purpose);
        }
        catch (AuthenticationTagMismatchException) { return null; }
        ReadOnlySpan<byte> rest = payload;
        if (rest[0] != Version) return null;
        var expires = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(rest[1..]));
        var pid = BinaryPrimitives.ReadInt64BigEndian(rest[9..]);
        rest = rest[17..];
        var texts = new string[3];
        for (var i = 0; i < texts.Length; i++)
        {
            var n = BinaryPrimitives.ReadInt32BigEndian(rest);
            texts[i] = Encoding.UTF8.GetString(rest.Slice(4, n));
            rest = rest[(4 + n)..];
        }
        return new PatientTicket(pid, texts[0], texts[1], texts[2], expires);
    }

    public bool Expired(PatientTicket ticket) => time.GetUtcNow() >= ticket.Expires;

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    static byte[] FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += (padded.Length % 4) switch { 2 => "==", 3 => "=", 0 => "", _ => throw new FormatException("not base64url") };
        return Convert.FromBase64String(padded);
    }
}
