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

    public void Bind(int index, int? value) => Bind(index, (long?)value);

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

    /// <summary>Runs the statement and returns the first column of its first row (RETURNING, SELECT), or null.</summary>
    public long? RunScalar()
    {
        var rc = raw.sqlite3_step(statement);
        long? value = rc == raw.SQLITE_ROW && raw.sqlite3_column_type(statement, 0) != raw.SQLITE_NULL ? raw.sqlite3_column_int64(statement, 0) : null;
        // Step a RETURNING statement to its end so that its write completes before the reset.
        while (rc == raw.SQLITE_ROW) rc = raw.sqlite3_step(statement);
        raw.sqlite3_reset(statement);
        if (rc != raw.SQLITE_DONE) Check(rc);
        return value;
    }

    /// <summary>Runs a query and hands each result row to the reader, then makes the statement ready again.</summary>
    public void Read(Action<Row> row)
    {
        int rc;
        try
        {
            while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW) row(new Row(statement));
        }
        finally { raw.sqlite3_reset(statement); }
        if (rc != raw.SQLITE_DONE) Check(rc);
    }

    /// <summary>The current row of a query being read.</summary>
    public readonly struct Row(sqlite3_stmt statement)
    {
        public long Int64(int column) => raw.sqlite3_column_int64(statement, column);
        public int? NullableInt32(int column) => raw.sqlite3_column_type(statement, column) == raw.SQLITE_NULL ? null : raw.sqlite3_column_int(statement, column);
        public string? Text(int column) => raw.sqlite3_column_type(statement, column) == raw.SQLITE_NULL ? null : raw.sqlite3_column_text(statement, column).utf8_to_string();
    }

    void Check(int rc)
    {
        if (rc != raw.SQLITE_OK && rc != raw.SQLITE_DONE)
            throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
    }

    public void Dispose() => statement.Dispose();
}
