using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Midia.Node.Consent;

namespace Midia.Node.Linkage;

/// <summary>
/// The patient's linkage pseudonym: HMAC-SHA256 with the sites' shared key over the normalised
/// KVNR, or — without one — over normalised family name, given name, birth date and sex. The two
/// inputs carry different domain prefixes so a KVNR can never collide with a demographic string.
/// Base64url, 43 characters. Only the pseudonym leaves the node; the coordinator never holds the key.
/// </summary>
public static class LinkagePseudonym
{
    const string KvnrDomain = "midia-linkage/kvnr/v1\n";
    const string DemographicsDomain = "midia-linkage/demographics/v1\n";

    /// <summary>The pseudonym, or null when the patient has neither a KVNR nor a name and birth date to link by.</summary>
    public static string? Of(LinkageKey key, string? kvnr, string? family, string? given, int? birthDate, string? sex)
    {
        var normalisedKvnr = kvnr?.Trim().ToUpperInvariant();
        string input;
        if (!string.IsNullOrEmpty(normalisedKvnr)) input = KvnrDomain + normalisedKvnr;
        else if (Name(family) is { Length: > 0 } f && birthDate is { } born)
            input = DemographicsDomain + string.Join('\u001f', f, Name(given), born.ToString(CultureInfo.InvariantCulture), Name(sex));
        else return null;
        var mac = HMACSHA256.HashData(key.Secret, Encoding.UTF8.GetBytes(input));
        return Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>
    /// Case-folded, without diacritics, whitespace and punctuation: "Müller-Lüdenscheidt " = "mullerludenscheidt".
    /// The process runs with invariant globalization (no ICU, so string.Normalize cannot decompose):
    /// letters of Latin-1 and Latin Extended-A fold by the table below, combining marks (U+0300..U+036F)
    /// of decomposed input are dropped — the names of the sites' patients are Latin script.
    /// </summary>
    public static string Name(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var kept = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is >= '\u0300' and <= '\u036f' || char.IsWhiteSpace(c) || char.IsPunctuation(c) || char.IsSeparator(c) || char.IsSymbol(c)) continue;
            var lower = char.ToLowerInvariant(c);
            if (Folds.TryGetValue(lower, out var folded)) kept.Append(folded);
            else kept.Append(lower);
        }
        return kept.ToString();
    }

    static readonly Dictionary<char, string> Folds = BuildFolds();

    static Dictionary<char, string> BuildFolds()
    {
        var folds = new Dictionary<char, string> { ['ß'] = "ss", ['æ'] = "ae", ['œ'] = "oe", ['þ'] = "th", ['ĳ'] = "ij" };
        foreach (var (letters, plain) in new[]
        {
            ("àáâãäåāăą", "a"), ("çćĉċč", "c"), ("ðďđ", "d"), ("èéêëēĕėęě", "e"), ("ĝğġģ", "g"), ("ĥħ", "h"),
            ("ìíîïĩīĭįı", "i"), ("ĵ", "j"), ("ķ", "k"), ("ĺļľŀł", "l"), ("ñńņňŉ", "n"), ("òóôõöøōŏő", "o"),
            ("ŕŗř", "r"), ("śŝşšſ", "s"), ("ţťŧ", "t"), ("ùúûüũūŭůűų", "u"), ("ŵ", "w"), ("ýÿŷ", "y"), ("źżž", "z"),
        })
            foreach (var letter in letters) folds[letter] = plain;
        return folds;
    }

    /// <summary>
    /// Sets patient.linkage for every patient without one (after an import, at serve start) in one
    /// transaction; bumps the data version when any changed, since network consent joins on it.
    /// Returns how many were set.
    /// </summary>
    public static int FillMissing(SqliteConnection connection, LinkageKey key)
    {
        using var transaction = connection.BeginTransaction();
        var found = new List<(long Pid, string Linkage)>();
        using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT pid, kvnr, family, given, birth_date, sex FROM patient WHERE linkage IS NULL";
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                var linkage = Of(key, Text(reader, 1), Text(reader, 2), Text(reader, 3), reader.IsDBNull(4) ? null : reader.GetInt32(4), Text(reader, 5));
                if (linkage is not null) found.Add((reader.GetInt64(0), linkage));
            }
        }
        if (found.Count == 0) return 0;
        using (var update = connection.CreateCommand())
        {
            update.Transaction = transaction;
            update.CommandText = "UPDATE patient SET linkage = $linkage WHERE pid = $pid";
            var pid = update.Parameters.Add("$pid", SqliteType.Integer);
            var linkage = update.Parameters.Add("$linkage", SqliteType.Text);
            foreach (var (p, l) in found)
            {
                pid.Value = p;
                linkage.Value = l;
                update.ExecuteNonQuery();
            }
        }
        ConsentLedger.BumpForConsentChange(connection, transaction);
        transaction.Commit();
        return found.Count;
    }

    static string? Text(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
}
