using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Midia.Node.Store;

namespace Midia.Node.Tests.Policy;

/// <summary>A real site database in its own temp folder, removed afterwards; and the midia-node executable to drive it.</summary>
public sealed class ScratchSite : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("midia-policy-").FullName;

    public ScratchSite() => Connection = SiteDatabase.Open(Path);

    public string Path => System.IO.Path.Combine(folder, "site.db");
    public SqliteConnection Connection { get; }

    public void Sql(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        command.ExecuteNonQuery();
    }

    public void AddPatient(long pid, string? kvnr = null, string? linkage = null) =>
        Sql("INSERT INTO patient(pid, resource_id, kvnr, linkage) VALUES ($pid, $id, $kvnr, $linkage)",
            ("$pid", pid), ("$id", $"pat-{pid}"), ("$kvnr", kvnr), ("$linkage", linkage));

    /// <summary>A provision from the site's own Consent documents, as the importer writes it.</summary>
    public void AddDocument(long pid, string policy, bool permit, int? start, int? end, string source = "Consent/doc") =>
        Sql("INSERT INTO consent_provision(pid, policy, permit, start, end, source) VALUES ($pid, $policy, $permit, $start, $end, $source)",
            ("$pid", pid), ("$policy", policy), ("$permit", permit ? 1 : 0), ("$start", start), ("$end", end), ("$source", source));

    /// <summary>A network change as the consent sync will write it: by linkage, with the coordinator's seq.</summary>
    public void AddNetworkChange(string linkage, long seq, string policy, bool permit, int? start, int? end) =>
        Sql("INSERT INTO consent_provision(linkage, policy, permit, start, end, source, seq) VALUES ($l, $policy, $permit, $start, $end, $source, $seq)",
            ("$l", linkage), ("$policy", policy), ("$permit", permit ? 1 : 0), ("$start", start), ("$end", end), ("$source", $"network:{seq}"), ("$seq", seq));

    public void BumpDataVersion() => SiteDatabase.BumpDataVersion(Connection);

    /// <summary>Runs midia-node with the arguments (in-process state untouched): exit code, stdout, stderr.</summary>
    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(System.IO.Path.Combine(AppContext.BaseDirectory, "midia-node.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error);
    }

    public void Dispose()
    {
        Connection.Dispose();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }
}
