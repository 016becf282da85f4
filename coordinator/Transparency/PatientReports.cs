using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Midia.Coordinator.FanOut;
using Midia.Coordinator.Projects;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Midia.Trust;
using Grpc.Core;

namespace Midia.Coordinator.Transparency;

/// <summary>
/// Care.PatientReport (issue 7): asks every site for its part of one patient's transparency report
/// by linkage pseudonym, says per site what happened, and attaches every project a research use
/// names, with its published result. The coordinator keeps only who asked, when, and each site's
/// status (table patient_report_request) — never the pseudonym or anything about the patient.
/// </summary>
public sealed partial class PatientReports
{
    const string Schema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS patient_report_request (
            request_id  TEXT PRIMARY KEY,
            asked_at    INTEGER NOT NULL,         -- unix ms
            user_name   TEXT NOT NULL,            -- certificate CN of the caller (a node or a clinician)
            user_role   TEXT NOT NULL,
            user_site   TEXT NOT NULL,
            sites       TEXT NOT NULL             -- 'erlangen ok, munich not_shared, ...'
        ) WITHOUT ROWID;
        """;

    readonly SiteFanOut fanOut;
    readonly ProjectRegistry projects;
    readonly TimeProvider time;
    readonly ILogger logger;
    readonly string connectionString;

    public PatientReports(string dbPath, SiteFanOut fanOut, ProjectRegistry projects, TimeProvider time, ILogger logger)
    {
        (this.fanOut, this.projects, this.time, this.logger) = (fanOut, projects, time, logger);
        connectionString = new SqliteConnectionStringBuilder { DataSource = dbPath, Pooling = true }.ToString();
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = Schema;
        command.ExecuteNonQuery();
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{43}$")]
    private static partial Regex LinkageShape();

    public async Task<Protos.Coordinator.V1.PatientReportReply> Report(Protos.Coordinator.V1.PatientReportRequest request, ServerCallContext context)
    {
        var linkage = request.Linkage.Trim();
        // Never echo it: a pseudonym is still about one person.
        if (!LinkageShape().IsMatch(linkage)) throw new RpcException(new Status(StatusCode.InvalidArgument, "linkage: not a linkage pseudonym (43 characters base64url, from the patient's home site)"));
        var caller = context.Caller();
        var started = Stopwatch.GetTimestamp();
        var requestId = Guid.CreateVersion7(time.GetUtcNow()).ToString("N");
        var user = new EndUser { Name = caller.Name, Role = caller.Role, Site = caller.Site ?? "", Via = caller.Via?.Name ?? "" };

        var order = fanOut.Connections.Select(c => c.Site.Id).ToList();
        var answers = new List<SiteAnswer<Protos.Node.V1.PatientReportReply>>();
        await foreach (var answer in fanOut.AskEveryAsync("patient-report",
            (site, options) => site.Care.PatientReportAsync(new Protos.Node.V1.PatientReportRequest { User = user, Linkage = linkage, RequestId = requestId }, options),
            context.CancellationToken).ConfigureAwait(false))
            answers.Add(answer);
        answers = [.. answers.OrderBy(a => order.IndexOf(a.Site) is var i and >= 0 ? i : int.MaxValue)];

        var reply = new Protos.Coordinator.V1.PatientReportReply { RequestId = requestId };
        foreach (var answer in answers)
        {
            var site = new SiteReport { Site = answer.Site, Status = answer.Status, Message = Explain(answer) };
            if (answer.Reply is { } part) site.Report = part;
            reply.Sites.Add(site);
        }
        var named = reply.Sites.Where(s => s.Report is not null).SelectMany(s => s.Report.Research).Select(r => r.Project)
            .Where(p => p.Length > 0).Distinct().Order(StringComparer.Ordinal);
        foreach (var id in named)
            if (projects.Find(id) is { } project) reply.Projects.Add(project);

        var statuses = string.Join(", ", reply.Sites.Select(s => $"{s.Site} {s.Status.Word()}"));
        Record(requestId, user, statuses);
        Log.Report(logger, requestId, caller.Role, caller.Site ?? "", statuses, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return reply;
    }

    void Record(string requestId, EndUser user, string statuses)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO patient_report_request (request_id, asked_at, user_name, user_role, user_site, sites)
            VALUES ($id, $at, $name, $role, $site, $sites)
            """;
        command.Parameters.AddWithValue("$id", requestId);
        command.Parameters.AddWithValue("$at", time.GetUtcNow().ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$name", user.Name);
        command.Parameters.AddWithValue("$role", user.Role);
        command.Parameters.AddWithValue("$site", user.Site);
        command.Parameters.AddWithValue("$sites", statuses);
        command.ExecuteNonQuery();
    }

    /// <summary>Per site, plainly what the report is missing and why.</summary>
    static string Explain(SiteAnswer<Protos.Node.V1.PatientReportReply> answer) => answer.Status switch
    {
        SiteStatus.Ok => "",
        SiteStatus.NotShared => "this site has no record of the patient",
        SiteStatus.NotApproved => "this site's admin has not approved patient reports (patient-report): what it holds about the patient is not shown",
        _ => $"{answer.Message}: what this site holds about the patient is missing from the report",
    };

    SqliteConnection Connect()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        return connection;
    }

    static partial class Log
    {
        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "patient report {RequestId} for a {Role} of {Site}: {Sites} in {Milliseconds} ms")]
        public static partial void Report(ILogger logger, string requestId, string role, string site, string sites, long milliseconds);
    }
}
