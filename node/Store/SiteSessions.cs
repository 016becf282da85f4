using System.Threading.Channels;
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
    public SiteSession(string dbPath)
    {
        Connection = SiteDatabase.Open(dbPath);
        Evaluator = new CohortEvaluator(Connection);
        Consent = new ConsentLedger(Connection);
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
/// </summary>
public sealed class SiteSessions : IDisposable
{
    readonly Channel<SiteSession> idle;
    readonly List<SiteSession> all = [];

    public SiteSessions(string dbPath, int size)
    {
        idle = Channel.CreateBounded<SiteSession>(size);
        for (var i = 0; i < size; i++)
        {
            var session = new SiteSession(dbPath);
            all.Add(session);
            idle.Writer.TryWrite(session);
        }
    }

    public async Task<T> RunAsync<T>(Func<SiteSession, T> work, CancellationToken cancellationToken)
    {
        var session = await idle.Reader.ReadAsync(cancellationToken);
        try { return await Task.Run(() => work(session), cancellationToken); }
        finally { idle.Writer.TryWrite(session); }
    }

    public void Dispose()
    {
        foreach (var session in all) session.Dispose();
    }
}
