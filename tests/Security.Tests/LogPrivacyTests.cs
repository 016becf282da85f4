using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Midia.Security.Tests.Support;

namespace Midia.Security.Tests;

/// <summary>
/// Issue 8, part 6: no identifier and no secret in any log line. An end-to-end run over the real
/// processes — synthetic data imported by `midia dev up`, counts, a clinician's summary started
/// from a KVNR, a patient report, a consent change that travels to every site, and a look-up of
/// an unknown KVNR — then every line the servers logged (and everything dev up and the commands
/// wrote to stderr) is searched for every KVNR, family name and given name in the imported FHIR
/// data, for the linkage key and for every private key — and so is the coordinator's database.
/// The portals' logs are searched too, after a physician's summary and a patient's pages through
/// erlangen's portal with dev up's demo accounts.
/// </summary>
[Collection(DemoNetworkCollection.Name)]
public sealed class LogPrivacyTests(DemoNetwork network)
{
    [Fact]
    public async Task NoLogLineNamesAPatientOrCarriesASecret()
    {
        var examples = Path.Combine(DemoNetwork.Repository(), "examples");
        var stderr = new List<string>();
        async Task<string> Run(string executable, string[] args, IReadOnlyDictionary<string, string>? environment = null, bool mustSucceed = true)
        {
            var (exit, output, error) = await DemoNetwork.RunAsync(executable, args, environment);
            stderr.Add(error);
            Assert.True(!mustSucceed || exit == 0, $"{executable} {args[0]} exited {exit}: {error}");
            return output;
        }

        var (kvnr, localId) = SharedPatient();

        await Run("midia", ["count", Path.Combine(examples, "her2-breast-cancer-trastuzumab.json"), "--json"], network.As("researcher"));
        await Run("midia", ["count", Path.Combine(examples, "ms-ocrelizumab-no-natalizumab.json"), "--stratify", "sex,age-band", "--json"], network.As("researcher"));
        var summary = JsonDocument.Parse(await Run("midia", ["summary", "--site", "erlangen", "--kvnr", kvnr, "--json"], network.As("clinician-erlangen"))).RootElement;
        Assert.True(summary.GetRawText().Length > 2);
        await Run("midia-node", ["patient", "report", "--db", network.Db("erlangen"), "--patient", localId, "--json",
            "--coordinator", network.Coordinator.ToString().TrimEnd('/'), "--cert", Cert("node-erlangen.crt"), "--key", Cert("node-erlangen.key"),
            "--ca", Cert("ca.crt"), "--linkage-key", Cert("linkage.key")]);
        // A refused look-up: the KVNR is not echoed on the way back either.
        await Run("midia", ["summary", "--site", "erlangen", "--kvnr", "Z999999999", "--json"], network.As("clinician-erlangen"), mustSucceed: false);
        Assert.Contains("has no patient with that KVNR", stderr[^1]);
        Assert.DoesNotContain("Z999999999", stderr[^1]);

        // Through erlangen's portal with dev up's demo accounts: a physician's summary started from
        // the KVNR, and the demo patient's consent page and transparency report (the portal sends
        // the KVNR its account is bound to).
        var password = Regex.Match(network.Output(), @"portal accounts for .*\(password (\S+)\)").Groups[1].Value;
        Assert.True(password.Length > 0, "dev up prints the demo accounts' password");
        using (var physician = new PortalBrowser(network.Portal("erlangen")))
        {
            await physician.SignInAsync("clinician-erlangen", password);
            var (status, body) = await physician.PostFormAsync("/Care", ("Patient", kvnr));
            Assert.True(status == System.Net.HttpStatusCode.OK, $"portal summary: {status}");
            Assert.Contains("id=\"summary\"", body); // the summary rendered, so the portal asked the node and the coordinator
            Assert.Contains("data-site=\"erlangen\"", body);
        }
        using (var patient = new PortalBrowser(network.Portal("erlangen")))
        {
            await patient.SignInAsync("patient-erlangen", password);
            foreach (var page in new[] { "/Patient", "/Patient/Report" })
                Assert.Equal(System.Net.HttpStatusCode.OK, (await patient.GetAsync(page)).Status);
        }

        await Run("midia-node", ["consent", "set", "--db", network.Db("erlangen"), "--kvnr", kvnr, "--policy", "research", "--deny"]);
        await Eventually(() => DemoNetwork.Sites.All(site => AppliedConsentSeq(site) >= 1), "every site applied the consent change");
        // A new question (not one from history), so every node counts again after the change; the third of 3 counts a minute.
        await Run("midia", ["count", Path.Combine(examples, "prostate-cancer-psa-above-4.json"), "--json"], network.As("researcher"));

        // The servers logged the run (so the search below searches something).
        // Every log dev up keeps (each node's and the coordinator's at least; any other process's too).
        var logs = Directory.GetFiles(network.Logs, "*.log");
        foreach (var name in DemoNetwork.Sites.Append("coordinator").Concat(DemoNetwork.PortalSites.Select(site => "portal-" + site)))
            Assert.Contains(Path.Combine(network.Logs, name + ".log"), logs);
        Assert.NotEmpty(File.ReadAllLines(Path.Combine(network.Logs, "portal-erlangen.log")));
        await Eventually(() => File.ReadAllText(Path.Combine(network.Logs, "coordinator.log")).Contains("summary "), "the coordinator logged the summary");
        var lines = logs.SelectMany(File.ReadAllLines)
            .Concat(network.Output().Split('\n'))
            .Concat(stderr.SelectMany(e => e.Split('\n')))
            .ToList();
        Assert.True(lines.Count > 20, $"only {lines.Count} log lines");

        var identifiers = Identifiers();
        Assert.Contains(kvnr, identifiers);
        Assert.True(identifiers.Count > 100, $"only {identifiers.Count} identifiers in the data");
        var pattern = new Regex(@"\b(" + string.Join("|", identifiers.OrderByDescending(i => i.Length).Select(Regex.Escape)) + @")\b", RegexOptions.CultureInvariant);
        Assert.Matches(pattern, $"a line naming {kvnr} is caught"); // the search can fail
        var leaks = lines.Select(l => (Line: l, Match: pattern.Match(l))).Where(l => l.Match.Success).Select(l => $"'{l.Match.Value}' in: {l.Line}").ToList();
        Assert.True(leaks.Count == 0, $"{leaks.Count} log lines carry an identifier:\n{string.Join("\n", leaks.Take(20))}");

        var secrets = Secrets();
        var exposed = lines.Where(l => secrets.Any(s => l.Contains(s, StringComparison.Ordinal))).ToList();
        Assert.True(exposed.Count == 0, $"{exposed.Count} log lines carry key material:\n{string.Join("\n", exposed.Take(5))}");

        // What the coordinator never holds: after summaries, a report and a consent change, its
        // database (and write-ahead log) names no patient and holds no key.
        var coordinatorFiles = Directory.GetFiles(network.Dir, "coordinator.db*");
        Assert.NotEmpty(coordinatorFiles);
        foreach (var file in coordinatorFiles)
        {
            var text = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(file));
            var held = pattern.Matches(text).Select(m => m.Value).Distinct().ToList();
            Assert.True(held.Count == 0, $"{file} holds identifiers: {string.Join(", ", held.Take(10))}");
            Assert.DoesNotContain(secrets, text.Contains);
        }
    }

    string Cert(string file) => Path.Combine(network.Certs, file);

    /// <summary>A patient of erlangen with a KVNR whom another site also knows (so the summary and the consent change travel).</summary>
    (string Kvnr, string LocalId) SharedPatient()
    {
        var elsewhere = DemoNetwork.Sites.Skip(1).SelectMany(site => Query(site, "SELECT kvnr FROM patient WHERE kvnr IS NOT NULL").Select(r => r[0])).ToHashSet();
        var home = Query("erlangen", "SELECT kvnr, resource_id FROM patient WHERE kvnr IS NOT NULL ORDER BY pid");
        var shared = home.FirstOrDefault(r => elsewhere.Contains(r[0])) ?? home.First();
        return (shared[0], shared[1]);
    }

    long AppliedConsentSeq(string site) =>
        Query(site, "SELECT value FROM meta WHERE key = 'consent_applied_seq'").Select(r => long.Parse(r[0], System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();

    List<string[]> Query(string site, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={network.Db(site)};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string[]>();
        while (reader.Read()) rows.Add([.. Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)!)]);
        return rows;
    }

    /// <summary>Every identifier value (KVNRs and any other), family and given name of every Patient in the FHIR data dev up imported.</summary>
    HashSet<string> Identifiers()
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(network.Data, "*.ndjson", SearchOption.AllDirectories))
            foreach (var line in File.ReadLines(file))
            {
                using var json = JsonDocument.Parse(line);
                var resource = json.RootElement;
                if (resource.GetProperty("resourceType").GetString() != "Patient") continue;
                if (resource.TryGetProperty("identifier", out var ids))
                    foreach (var id in ids.EnumerateArray()) found.Add(id.GetProperty("value").GetString()!);
                if (resource.TryGetProperty("name", out var names))
                    foreach (var name in names.EnumerateArray())
                    {
                        if (name.TryGetProperty("family", out var family)) found.Add(family.GetString()!);
                        if (name.TryGetProperty("given", out var given))
                            foreach (var g in given.EnumerateArray()) found.Add(g.GetString()!);
                    }
            }
        found.RemoveWhere(string.IsNullOrWhiteSpace);
        return found;
    }

    /// <summary>The linkage key and the base64 lines of every private key dev up made.</summary>
    List<string> Secrets()
    {
        var secrets = new List<string> { File.ReadAllText(Cert("linkage.key")).Trim() };
        foreach (var key in Directory.GetFiles(network.Certs, "*.key").Where(k => !k.EndsWith("linkage.key", StringComparison.Ordinal)))
            secrets.AddRange(File.ReadAllLines(key).Where(l => l.Length >= 40 && !l.StartsWith("-----", StringComparison.Ordinal)));
        Assert.True(secrets.Count > 10);
        return secrets;
    }

    static async Task Eventually(Func<bool> condition, string what, int seconds = 60)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > until) Assert.Fail($"not within {seconds} s: {what}");
            await Task.Delay(100);
        }
    }
}
