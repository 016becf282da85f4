using Microsoft.Data.Sqlite;
using Midia.Protos.Coordinator.V1;

namespace Midia.Coordinator.Projects;

/// <summary>
/// The network's research projects (table project in the coordinator's --db): id, title, question,
/// responsible institution, who registered it, and the plain-language result once published. What
/// patients read their transparency report against; never patient data.
/// </summary>
public sealed class ProjectRegistry
{
    const string Schema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS project (
            id            TEXT PRIMARY KEY,
            title         TEXT NOT NULL,
            question      TEXT NOT NULL,
            institution   TEXT NOT NULL,
            registered_by TEXT NOT NULL,           -- the researcher's certificate CN
            registered_at INTEGER NOT NULL,        -- unix ms
            result        TEXT NOT NULL DEFAULT '',-- plain-language outcome; '' until published
            published_at  INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        """;

    readonly string connectionString;

    ProjectRegistry(string connectionString) => this.connectionString = connectionString;

    public static ProjectRegistry Open(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        var registry = new ProjectRegistry(new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString());
        using var connection = registry.Connect();
        Execute(connection, Schema);
        return registry;
    }

    /// <summary>False when the id is taken (the existing project is left as it is).</summary>
    public bool TryAdd(Project project)
    {
        using var connection = Connect();
        return Execute(connection, """
            INSERT INTO project (id, title, question, institution, registered_by, registered_at)
            VALUES ($id, $title, $question, $institution, $by, $at) ON CONFLICT (id) DO NOTHING
            """, ("$id", project.Id), ("$title", project.Title), ("$question", project.Question), ("$institution", project.Institution),
            ("$by", project.RegisteredBy), ("$at", project.RegisteredUnixMs)) == 1;
    }

    public void Publish(string id, string result, long publishedUnixMs)
    {
        using var connection = Connect();
        Execute(connection, "UPDATE project SET result = $result, published_at = $at WHERE id = $id", ("$id", id), ("$result", result), ("$at", publishedUnixMs));
    }

    public Project? Find(string id) => Read("WHERE id = $id", id).FirstOrDefault();

    public bool IsRegistered(string id) => Find(id) is not null;

    /// <summary>Every project, by id.</summary>
    public IReadOnlyList<Project> All() => Read("", null);

    List<Project> Read(string where, string? id)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT id, title, question, institution, registered_by, registered_at, result, published_at FROM project {where} ORDER BY id";
        if (id is not null) command.Parameters.AddWithValue("$id", id);
        using var reader = command.ExecuteReader();
        var projects = new List<Project>();
        while (reader.Read())
            projects.Add(new Project
            {
                Id = reader.GetString(0), Title = reader.GetString(1), Question = reader.GetString(2), Institution = reader.GetString(3),
                RegisteredBy = reader.GetString(4), RegisteredUnixMs = reader.GetInt64(5), Result = reader.GetString(6), PublishedUnixMs = reader.GetInt64(7),
            });
        return projects;
    }

    SqliteConnection Connect()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        Execute(connection, "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000");
        return connection;
    }

    static int Execute(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command.ExecuteNonQuery();
    }
}
