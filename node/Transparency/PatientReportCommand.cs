using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Midia.Node.Care;
using Midia.Node.Consent;
using Midia.Node.Linkage;
using Midia.Node.Policy;
using Midia.Node.Store;
using Midia.Protos.Coordinator.V1;
using Grpc.Core;
using Midia.Hosting;
using Midia.Trust;

namespace Midia.Node.Transparency;

/// <summary>
/// `midia-node patient report --db FILE (--kvnr K | --patient LOCALID) [--json]`: what a patient
/// sees, gathered from every site. The home site finds the patient, computes the linkage
/// pseudonym with the shared key and asks the coordinator (Care.PatientReport) with the node's own
/// certificate; neither the KVNR nor the local id leaves this node. When the coordinator cannot be
/// reached, this site's own part is shown and the report says plainly that the others were not asked.
/// </summary>
public static class PatientReportCommand
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Command()
    {
        var patient = new Command("patient", "What a patient may know: their transparency report");
        patient.Subcommands.Add(ReportCommand());
        return patient;
    }

    static Command ReportCommand()
    {
        var db = SiteDatabase.DbOption();
        var kvnr = new Option<string>("--kvnr") { HelpName = "K", Description = "The patient's KVNR (statutory insurance id)" };
        var local = new Option<string>("--patient") { HelpName = "LOCALID", Description = "The patient's local Patient id at this site" };
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var coordinator = new Option<string>("--coordinator") { HelpName = "URL", Description = "The coordinator, e.g. https://127.0.0.1:7100 (also MIDIA_COORDINATOR)" };
        var cert = new Option<string>("--cert") { HelpName = "PEM", Description = "This node's certificate, role node (also MIDIA_CERT)" };
        var key = new Option<string>("--key") { HelpName = "PEM", Description = "Its private key (also MIDIA_KEY)" };
        var ca = new Option<string>("--ca") { HelpName = "PEM", Description = "The network's CA bundle (also MIDIA_CA)" };
        var linkageKey = new Option<string>("--linkage-key") { HelpName = "FILE", Description = "The sites' shared linkage secret (also MIDIA_LINKAGE_KEY)" };
        var timeout = new Option<double>("--timeout") { HelpName = "SECONDS", Description = "How long to wait for the coordinator", DefaultValueFactory = _ => 10 };
        var command = new Command("report", "The patient's consent per policy and its history, who accessed their record, and every research query that counted them — from every site")
            { db, kvnr, local, json, coordinator, cert, key, ca, linkageKey, timeout };
        command.SetAction(async (parse, cancel) =>
        {
            using var connection = SiteDatabase.OpenExisting(parse, db);
            var (kvnrValue, localValue) = (parse.GetValue(kvnr), parse.GetValue(local));
            var pid = LocalPatient.Find(connection, kvnrValue, localValue);
            // One person may have several local records with that KVNR; the report covers all of them.
            var pids = kvnrValue is null ? [pid] : LocalPatient.Matching(connection, kvnrValue, null);
            var localId = ResourceId(connection, pid);
            var linkage = Pseudonym(connection, pid, Setting.Get(parse, linkageKey) is { } keyFile ? LinkageKey.Load(keyFile) : null);

            using var tls = TlsMaterial.Load(Setting.Require(parse, cert), Setting.Require(parse, key), Setting.Require(parse, ca));
            if (tls.Identity.Role != "node") throw new CommandException($"--cert is a {tls.Identity.Role} certificate; the report is asked for with this node's certificate");
            var site = tls.Identity.Site ?? throw new CommandException("--cert names no site (urn:midia:site:...): use this node's certificate");
            var address = Setting.Require(parse, coordinator);

            PatientReportReply reply;
            string? unreachable = null;
            try
            {
                using var channel = NetworkChannel.Open(address, tls, new ServerPin("coordinator"), TimeSpan.FromSeconds(parse.GetValue(timeout)));
                reply = await new Protos.Coordinator.V1.Care.CareClient(channel.Invoker).PatientReportAsync(new PatientReportRequest { Linkage = linkage },
                    deadline: DateTime.UtcNow.AddSeconds(parse.GetValue(timeout)), cancellationToken: cancel);
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
            {
                unreachable = e.StatusCode == StatusCode.DeadlineExceeded ? $"the coordinator {address} did not answer in time" : $"the coordinator {address} could not be reached ({e.Status.Detail})";
                reply = LocalOnly(connection, site, pids, tls.Identity.Name);
            }
            catch (RpcException e)
            {
                throw new CommandException($"coordinator {address} refused the report: {e.StatusCode}: {e.Status.Detail}");
            }
            catch (ArgumentException e)
            {
                throw new CommandException($"--coordinator: {e.Message}");
            }

            if (parse.GetValue(json)) Console.Out.WriteLine(JsonSerializer.Serialize(ToJson(localId, site, reply, unreachable), Json));
            else Print(Console.Out, localId, site, reply, unreachable);
            return 0;
        });
        return command;
    }

    /// <summary>This site's own part, read here; the access and the audit entry are recorded as for any report.</summary>
    static PatientReportReply LocalOnly(SqliteConnection connection, string site, IReadOnlyList<long> pids, string nodeName)
    {
        var part = PatientReports.Read(site, connection, new ConsentLedger(connection), pids, Days.Today());
        const string detail = "read at this site's desk; the coordinator was out of reach";
        foreach (var pid in pids) RecordAccessLog.Record(connection, pid, nodeName, "node", site, QueryTypes.PatientReport, RecordAccessLog.Released, detail);
        new Audit.AuditLog(connection).Answered(nodeName, "node", null, QueryTypes.PatientReport, null, detail);
        return new PatientReportReply
        {
            Sites = { new SiteReport { Site = site, Status = SiteStatus.Ok, Report = part } },
        };
    }

    static string Pseudonym(SqliteConnection connection, long pid, LinkageKey? key)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT linkage, kvnr, family, given, birth_date, sex FROM patient WHERE pid = $pid";
        command.Parameters.AddWithValue("$pid", pid);
        using var reader = command.ExecuteReader();
        reader.Read();
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        var computed = key is null ? null : LinkagePseudonym.Of(key, Text(1), Text(2), Text(3), reader.IsDBNull(4) ? null : reader.GetInt32(4), Text(5));
        if (key is not null && computed is null) throw new CommandException("the patient has neither a KVNR nor a name and birth date: other sites cannot be asked about them");
        return computed ?? Text(0) ?? throw new CommandException("--linkage-key is required (or MIDIA_LINKAGE_KEY): the patient's pseudonym has not been computed at this site yet");
    }

    static string ResourceId(SqliteConnection connection, long pid)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT resource_id FROM patient WHERE pid = $pid";
        command.Parameters.AddWithValue("$pid", pid);
        return (string)command.ExecuteScalar()!;
    }

    static string Status(SiteStatus status) => status switch
    {
        SiteStatus.Ok => "ok",
        SiteStatus.Timeout => "timeout",
        SiteStatus.Unavailable => "unavailable",
        SiteStatus.NotApproved => "not_approved",
        SiteStatus.Refused => "refused",
        SiteStatus.NotShared => "no record",
        _ => "error",
    };

    static string When(string iso) =>
        DateTime.TryParse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) ? t.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) : iso;

    static object ToJson(string localId, string site, PatientReportReply reply, string? unreachable)
    {
        var projects = reply.Projects.ToDictionary(p => p.Id);
        return new
        {
            patient = localId,
            homeSite = site,
            requestId = reply.RequestId.Length > 0 ? reply.RequestId : null,
            complete = unreachable is null && reply.Sites.All(s => s.Status is SiteStatus.Ok or SiteStatus.NotShared),
            note = unreachable is null ? null : $"{unreachable}: only {site}'s own part is shown; the other sites could not be asked",
            sites = reply.Sites.Select(s => new
            {
                site = s.Site,
                status = Status(s.Status).Replace(' ', '_'),
                message = s.Message.Length > 0 ? s.Message : null,
                consent = s.Report?.Consent.Select(c => new { policy = c.Policy, name = c.PolicyName, permitted = c.Permitted, explanation = c.Explanation }),
                consentHistory = s.Report?.ConsentHistory.Select(e => new { policy = e.Policy, permit = e.Permit, from = Empty(e.From), to = Empty(e.To), source = e.Source }),
                accesses = s.Report?.Accesses.Select(a => new { time = a.Time, user = a.UserName, role = a.UserRole, site = a.UserSite, purpose = a.Purpose, outcome = a.Outcome, detail = a.Detail }),
                research = s.Report?.Research.Select(r => new
                {
                    time = r.Time, queryId = r.QueryId, project = Empty(r.Project), question = r.Question, queryType = r.QueryType, released = r.Released,
                    title = projects.GetValueOrDefault(r.Project)?.Title,
                    institution = projects.GetValueOrDefault(r.Project)?.Institution,
                    publishedResult = projects.GetValueOrDefault(r.Project) is { Result.Length: > 0 } p ? p.Result : null,
                }),
            }),
            projects = reply.Projects.Select(p => new
            {
                id = p.Id, title = p.Title, question = p.Question, institution = p.Institution,
                result = Empty(p.Result),
                published = p.PublishedUnixMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(p.PublishedUnixMs) : (DateTimeOffset?)null,
            }),
        };
    }

    static string? Empty(string text) => text.Length == 0 ? null : text;

    static void Print(TextWriter o, string localId, string site, PatientReportReply reply, string? unreachable)
    {
        var projects = reply.Projects.ToDictionary(p => p.Id);
        var parts = reply.Sites.Where(s => s.Report is not null).ToList();
        o.WriteLine($"Transparency report for patient {localId} of {site}, {DateTime.UtcNow:yyyy-MM-dd}");
        if (unreachable is not null)
            o.WriteLine($"NOTE: {unreachable}. Only what {site} itself holds is shown below; the other sites could not be asked.");
        else
            o.WriteLine("Sites asked: " + string.Join(", ", reply.Sites.Select(s => $"{s.Site} {Status(s.Status)}")));
        foreach (var missing in reply.Sites.Where(s => s.Status is not (SiteStatus.Ok or SiteStatus.NotShared)))
            o.WriteLine($"  {missing.Site}: {missing.Message}");

        o.WriteLine();
        o.WriteLine("Your consent today");
        foreach (var part in parts)
            foreach (var c in part.Report.Consent)
                o.WriteLine($"  {part.Site,-10} {c.PolicyName}: {(c.Permitted ? "PERMITTED" : "NOT PERMITTED")} — {c.Explanation}");

        o.WriteLine();
        o.WriteLine("How your consent changed");
        var history = parts.SelectMany(p => p.Report.ConsentHistory.Select(e => (p.Site, e))).ToList();
        if (history.Count == 0) o.WriteLine("  no consent was ever recorded: no decision means no");
        foreach (var (at, e) in history)
            o.WriteLine($"  {at,-10} {(e.Permit ? "permit" : "deny"),-6} {ConsentPolicies.Name(e.Policy)}  {(e.From.Length > 0 ? e.From : "open")} .. {(e.To.Length > 0 ? e.To : "open")}  ({e.Source})");

        o.WriteLine();
        o.WriteLine("Who accessed your record");
        var accesses = parts.SelectMany(p => p.Report.Accesses.Select(a => (p.Site, a))).OrderByDescending(x => x.a.Time, StringComparer.Ordinal).ToList();
        if (accesses.Count == 0) o.WriteLine("  nobody");
        foreach (var (at, a) in accesses)
        {
            var who = a.UserRole == "node" ? $"your home site {(a.UserSite.Length > 0 ? a.UserSite : a.UserName)}" : $"{a.UserRole} {a.UserName}{(a.UserSite.Length > 0 ? $" of {a.UserSite}" : "")}";
            var what = a.Purpose switch { "patient-summary" => "a patient summary", "patient-report" => "this transparency report", _ => a.Purpose };
            o.WriteLine($"  {When(a.Time)}  at {at}: {who} asked for {what} — {a.Outcome}{(a.Detail.Length > 0 ? $" ({a.Detail})" : "")}");
        }

        o.WriteLine();
        o.WriteLine("Research that counted you");
        var uses = parts.SelectMany(p => p.Report.Research.Select(r => (p.Site, r))).OrderByDescending(x => x.r.Time, StringComparer.Ordinal).ToList();
        if (uses.Count == 0) o.WriteLine("  no research query has counted you");
        foreach (var (at, r) in uses)
        {
            var project = projects.GetValueOrDefault(r.Project);
            o.WriteLine($"  {When(r.Time)}  at {at}: {(project is not null ? $"\"{project.Title}\" ({project.Institution})" : r.Project.Length > 0 ? $"project {r.Project}" : "no project named")}");
            o.WriteLine($"      question: {(r.Question.Length > 0 ? r.Question : project?.Question ?? "(none given)")}");
            if (project is not null && project.Question.Length > 0 && project.Question != r.Question) o.WriteLine($"      project question: {project.Question}");
            o.WriteLine($"      {r.QueryType}, released result: {r.Released}");
            o.WriteLine(project is { Result.Length: > 0 } ? $"      published outcome: {project.Result}"
                : unreachable is not null && r.Project.Length > 0 ? "      published outcome: unknown here (the coordinator keeps the projects and could not be asked)"
                : "      published outcome: none yet");
        }
    }
}
