using Microsoft.Data.Sqlite;
using Grpc.Core;
using Midia.Hosting;

namespace Midia.Node.Store;

/// <summary>Finds a patient of this site by KVNR or local Patient id, for the site's own desks.</summary>
public static class LocalPatient
{
    /// <summary>The pid; an unknown patient is a CommandException that does not repeat the KVNR.</summary>
    public static long Find(SqliteConnection connection, string? kvnr, string? localId)
    {
        if ((kvnr is null) == (localId is null)) throw new CommandException("give exactly one of --kvnr or --patient");
        var pids = Matching(connection, kvnr, localId);
        return pids.Count switch
        {
            1 => pids[0],
            0 => throw new CommandException(kvnr is not null ? "no patient with that KVNR at this site" : $"no patient '{localId}' at this site"),
            _ => throw new CommandException($"{pids.Count} patients at this site carry that KVNR: use --patient"),
        };
    }

    /// <summary>A KVNR's shape: one capital letter followed by 9 digits (the check digit is not tested).</summary>
    public static bool IsKvnrShape(string value)
    {
        if (value.Length != 10 || value[0] is < 'A' or > 'Z') return false;
        for (int i = 1; i < 10; i++) if (value[i] is < '0' or > '9') return false;
        return true;
    }

    /// <summary>
    /// The KVNR (trimmed, upper case, shape checked) or the local id a request names — whichever
    /// is not null; INVALID_ARGUMENT otherwise, never repeating the value (it is an identifier).
    /// </summary>
    public static (string? Kvnr, string? LocalId) Named(string site, string? kvnr, string? localId, string kvnrField, string missing)
    {
        if (kvnr is not null)
        {
            kvnr = kvnr.Trim().ToUpperInvariant();
            if (!IsKvnrShape(kvnr)) throw new RpcException(new Status(StatusCode.InvalidArgument, $"{site}: {kvnrField}: a KVNR is one capital letter followed by 9 digits"));
            return (kvnr, null);
        }
        if (!string.IsNullOrWhiteSpace(localId)) return (null, localId.Trim());
        throw new RpcException(new Status(StatusCode.InvalidArgument, $"{site}: {missing}"));
    }

    /// <summary>
    /// Every pid with that KVNR (trimmed, upper case) or that local id ("123" or "Patient/123").
    /// A KVNR may match several local records of one person; they share one linkage pseudonym.
    /// </summary>
    public static List<long> Matching(SqliteConnection connection, string? kvnr, string? localId)
    {
        using var command = connection.CreateCommand();
        if (kvnr is not null)
        {
            command.CommandText = "SELECT pid FROM patient WHERE kvnr = $k ORDER BY pid";
            command.Parameters.AddWithValue("$k", kvnr.Trim().ToUpperInvariant());
        }
        else
        {
            // Either spelling of a local id: "123" or "Patient/123".
            var id = (localId ?? "").Trim();
            var bare = id.StartsWith("Patient/", StringComparison.Ordinal) ? id["Patient/".Length..] : id;
            command.CommandText = "SELECT pid FROM patient WHERE resource_id IN ($a, $b) ORDER BY pid";
            command.Parameters.AddWithValue("$a", bare);
            command.Parameters.AddWithValue("$b", "Patient/" + bare);
        }
        var pids = new List<long>();
        using var reader = command.ExecuteReader();
        while (reader.Read()) pids.Add(reader.GetInt64(0));
        return pids;
    }
}
