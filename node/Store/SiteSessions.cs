using System.Threading.Channels;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Data.Sqlite;
using Midia.Node.Audit;
using Midia.Node.Consent;
using Midia.Node.Disclosure;
using Midia.Node.Policy;
using Midia.Node.Query;

namespace Midia.Node.Store;

/// <summary>
/// One open connection to the site database with the capabilities that read it. Each keeps its
/// own caches (demographics, consent sets) keyed by the data version, so a session is reused
/// across requests and never shared between two at once.
/// </summary>
public sealed class SiteSession : IDisposable
{
    public SiteSession(string dbPath) : this(SiteDatabase.Open(dbPath)) { }

    /// <summary>On a connection the caller opened (and the session now owns).</summary>
    public SiteSession(SqliteConnection connection)
    {
        Connection = connection;
        Consent = new ConsentLedger(Connection);
        Evaluator = new CohortEvaluator(Connection, Consent);
        Disclosure = new DisclosureControl(Connection);
        Approvals = new QueryApproval(Connection);
        Audit = new AuditLog(Connection);
    }

    public SqliteConnection Connection { get; }
    public CohortEvaluator Evaluator { get; }
    public ConsentLedger Consent { get; }
    public DisclosureControl Disclosure { get; }
    public QueryApproval Approvals { get; }
    public AuditLog Audit { get; }

    public long DataVersion() => SiteDatabase.DataVersion(Connection);

    public void Dispose() => Connection.Dispose();
}

/// <summary>
/// A small pool of sessions for a serving node: as many requests run at once as there are
/// sessions (one per core by default); the rest wait their turn or their deadline.
/// A request that meets a storage fault (disk full, read-only or failing database) retires its
/// session — the next request opens a fresh one, so the node answers again as soon as the
/// condition ends, without a restart — and ends with the status <see cref="StorageFaults"/> gives it.
/// </summary>
public sealed class SiteSessions : IDisposable
{
    readonly Channel<SiteSession?> idle;
    readonly Func<SiteSession> open;
    readonly Lock gate = new();
    readonly HashSet<SiteSession> all = [];

    public SiteSessions(string dbPath, int size) : this(size, () => new SiteSession(dbPath)) { }

    /// <summary>With the way each session is opened (tests put a node's database under a fault this way).</summary>
    public SiteSessions(int size, Func<SiteSession> open)
    {
        this.open = open;
        idle = Channel.CreateBounded<SiteSession?>(size);
        for (var i = 0; i < size; i++) idle.Writer.TryWrite(Track(open()));
    }

    public async Task<T> RunAsync<T>(Func<SiteSession, T> work, CancellationToken cancellationToken)
    {
        var session = await idle.Reader.ReadAsync(cancellationToken);
        try
        {
            session ??= Track(Reopen());
            return await Task.Run(() => work(session), cancellationToken);
        }
        catch (SqliteException e) when (StorageFaults.Describe(e) is not null)
        {
            Retire(session);
            session = null;
            throw;
        }
        finally { idle.Writer.TryWrite(session); }
    }

    SiteSession Reopen() => open();

    SiteSession Track(SiteSession session)
    {
        lock (gate) all.Add(session);
        return session;
    }

    void Retire(SiteSession? session)
    {
        if (session is null) return;
        lock (gate) all.Remove(session);
        session.Dispose();
    }

    public void Dispose()
    {
        lock (gate)
        {
            foreach (var session in all) session.Dispose();
            all.Clear();
        }
    }
}

/// <summary>
/// The one mapping from a database that cannot take a write to the status the caller sees, for
/// every RPC of the node (the first interceptor after authorization). A request whose audit entry
/// cannot be written is not answered: nothing leaves the node unaudited.
/// </summary>
public sealed class StorageFaults : Interceptor
{
    public const string SiteStatusTrailer = "midia-site-status";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(request, context); }
        catch (SqliteException e) when (Describe(e) is { } fault) { throw fault; }
    }

    public static RpcException? Describe(SqliteException e) => e.SqliteErrorCode switch
    {
        13 => Fault(StatusCode.ResourceExhausted, "the site database is full (no space left on its disk, or its size limit reached)"),
        8 => Fault(StatusCode.Unavailable, "the site database is read-only"),
        10 or 14 => Fault(StatusCode.Unavailable, "the site database cannot be read or written (I/O error)"),
        5 or 6 => Fault(StatusCode.Unavailable, "the site database is busy (locked by another writer)"),
        _ => null,
    };

    static RpcException Fault(StatusCode code, string what) =>
        new(new Status(code, $"{what}: the request was not answered; the node answers again once the site admin has fixed the storage"),
            new Metadata { { SiteStatusTrailer, "storage" } });
}
