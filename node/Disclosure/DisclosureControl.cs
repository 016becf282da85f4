using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Midia.Node.Policy;

namespace Midia.Node.Disclosure;

/// <summary>
/// Turns a true count into what may leave the node: threshold on the true count, then discrete
/// Laplace noise from a stream keyed by (site secret, query type, canonical query, data version)
/// — the same question on the same data always gets the same answer, so averaging gains nothing —
/// floored at 0 and rounded. Settings are read from the database on every release.
/// </summary>
public sealed class DisclosureControl(SqliteConnection connection)
{
    byte[]? secret;

    public DisclosureSetting Setting(string queryType)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT epsilon, round, threshold, exact FROM disclosure_setting WHERE query_type = $t";
        command.Parameters.AddWithValue("$t", queryType);
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return new DisclosureSetting(queryType, null, null, null, false);
        return new DisclosureSetting(queryType,
            reader.IsDBNull(0) ? null : decimal.Parse(reader.GetString(0), CultureInfo.InvariantCulture),
            reader.IsDBNull(1) ? null : reader.GetInt32(1),
            reader.IsDBNull(2) ? null : reader.GetInt32(2),
            reader.GetInt64(3) != 0);
    }

    /// <summary>Changes only the given fields; the others keep their value.</summary>
    public DisclosureSetting Configure(string queryType, decimal? epsilon, int? round, int? threshold, bool? exact)
    {
        if (!QueryTypes.IsKnown(queryType)) throw new ArgumentException($"unknown query type {queryType}", nameof(queryType));
        if (round is < 1) throw new ArgumentOutOfRangeException(nameof(round), "round is at least 1");
        if (threshold is < 0) throw new ArgumentOutOfRangeException(nameof(threshold), "threshold is at least 0");
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO disclosure_setting(query_type, epsilon, round, threshold, exact) VALUES ($t, $e, $r, $k, IFNULL($x, 0))
            ON CONFLICT(query_type) DO UPDATE SET
              epsilon = IFNULL($e, epsilon), round = IFNULL($r, round), threshold = IFNULL($k, threshold), exact = IFNULL($x, exact)
            """;
        command.Parameters.AddWithValue("$t", queryType);
        command.Parameters.AddWithValue("$e", epsilon is null ? DBNull.Value : DisclosureSetting.Format(epsilon.Value));
        command.Parameters.AddWithValue("$r", (object?)round ?? DBNull.Value);
        command.Parameters.AddWithValue("$k", (object?)threshold ?? DBNull.Value);
        command.Parameters.AddWithValue("$x", exact is null ? DBNull.Value : exact.Value ? 1 : 0);
        command.ExecuteNonQuery();
        return Setting(queryType);
    }

    /// <summary>
    /// Releases a count of a query type. The cell names one number among several of the same query
    /// (a stratum), so each gets its own independent noise.
    /// </summary>
    public ReleasedCount Release(long trueCount, string queryType, string canonicalHash, long dataVersion, string cell = "")
    {
        var setting = Setting(queryType);
        using var noise = new NoiseStream(NoiseKey(SiteSecret(), queryType, canonicalHash, dataVersion, cell));
        return Release(trueCount, setting, noise);
    }

    public static ReleasedCount Release(long trueCount, DisclosureSetting setting, NoiseStream noise)
    {
        if (trueCount < setting.Threshold)
            return new ReleasedCount(null, false, true, $"fewer than {setting.Threshold}", setting.Threshold);
        if (setting.Exact)
            return new ReleasedCount(trueCount, false, false, "exact", setting.Threshold);
        var (s, t) = setting.EpsilonFraction;
        var value = Math.Max(0, trueCount + DiscreteLaplace.Sample(noise, s, t));
        var round = setting.Round;
        if (round > 1) value = (value + round / 2) / round * round;
        var treatment = $"discrete Laplace noise (epsilon {DisclosureSetting.Format(setting.Epsilon)})" + (round > 1 ? $", rounded to {round}" : "");
        return new ReleasedCount(value, true, false, treatment, setting.Threshold);
    }

    /// <summary>HMAC-SHA256(site secret, each part length-prefixed): a distinct key per distinct question.</summary>
    public static byte[] NoiseKey(byte[] siteSecret, string queryType, string canonicalHash, long dataVersion, string cell)
    {
        var message = new MemoryStream();
        Span<byte> length = stackalloc byte[4];
        foreach (var part in new[] { queryType, canonicalHash, dataVersion.ToString(CultureInfo.InvariantCulture), cell })
        {
            var bytes = Encoding.UTF8.GetBytes(part);
            BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
            message.Write(length);
            message.Write(bytes);
        }
        return HMACSHA256.HashData(siteSecret, message.ToArray());
    }

    /// <summary>32 random bytes made once per site (meta 'site_secret'); never printed or logged.</summary>
    internal byte[] SiteSecret()
    {
        if (secret is not null) return secret;
        using (var insert = connection.CreateCommand())
        {
            insert.CommandText = "INSERT OR IGNORE INTO meta(key, value) VALUES ('site_secret', $v)";
            insert.Parameters.AddWithValue("$v", Convert.ToHexString(RandomNumberGenerator.GetBytes(32)));
            insert.ExecuteNonQuery();
        }
        using var select = connection.CreateCommand();
        select.CommandText = "SELECT value FROM meta WHERE key = 'site_secret'";
        return secret = Convert.FromHexString((string)select.ExecuteScalar()!);
    }
}
