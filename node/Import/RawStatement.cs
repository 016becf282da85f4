using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Midia.Node.Import;

/// <summary>
/// A statement prepared once and run through SQLite's C API directly. The import's hot inserts
/// and deletes run millions of times; Microsoft.Data.Sqlite's per-execution bookkeeping
/// (parameter type inference, reader setup) was most of their cost.
/// </summary>
sealed class RawStatement : IDisposable
{
    readonly sqlite3 db;
    readonly sqlite3_stmt statement;

    public RawStatement(SqliteConnection connection, string sql)
    {
        db = connection.Handle ?? throw new InvalidOperationException("the connection is not open");
        Check(raw.sqlite3_prepare_v2(db, sql, out statement));
    }

    // SQLite numbers parameters from 1.
    public void Bind(int index, long value) => raw.sqlite3_bind_int64(statement, index, value);

    public void Bind(int index, long? value)
    {
        if (value is long v) raw.sqlite3_bind_int64(statement, index, v);
        else raw.sqlite3_bind_null(statement, index);
    }

    public void Bind(int index, double? value)
    {
        if (value is double v) raw.sqlite3_bind_double(statement, index, v);
        else raw.sqlite3_bind_null(statement, index);
    }

    public void Bind(int index, string? value)
    {
        if (value is null) raw.sqlite3_bind_null(statement, index);
        else raw.sqlite3_bind_text(statement, index, value);
    }

    /// <summary>Runs the statement (no result rows) and makes it ready for the next bindings.</summary>
    public void Run()
    {
        var rc = raw.sqlite3_step(statement);
        raw.sqlite3_reset(statement);
        if (rc != raw.SQLITE_DONE) Check(rc);
    }

    void Check(int rc)
    {
        if (rc != raw.SQLITE_OK && rc != raw.SQLITE_DONE)
            throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
    }

    public void Dispose() => statement.Dispose();
}
