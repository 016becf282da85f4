using System.CommandLine;
using System.Net;
using Midia.CertsDev;
using Midia.Hosting;

namespace Midia.Cli.Dev;

/// <summary>`midia dev certs` and `midia dev issue-cert`: development certificates (certs-dev/README.md).</summary>
public static class CertsCommands
{
    public static Command Certs()
    {
        var outDir = new Option<string>("--out") { Description = "Folder for ca.crt/ca.key, coordinator, node-SITE, user certificates and linkage.key", Required = true };
        var sites = new Option<string>("--sites") { Description = "Comma-separated site ids, e.g. erlangen,munich,practice", Required = true };
        var command = new Command("certs", "Make a development CA and certificates for the coordinator, every site's node and one user of each role (never for production)") { outDir, sites };
        command.SetAction(parse =>
        {
            var siteIds = SiteIds(parse.GetValue(sites)!);
            var written = DevCertificates.CreateNetwork(parse.GetValue(outDir)!, siteIds);
            Console.WriteLine($"wrote {written.Count} certificates and the linkage key to {Path.GetFullPath(parse.GetValue(outDir)!)} (development only)");
            return 0;
        });
        return command;
    }

    public static Command IssueCert()
    {
        var ca = new Option<string>("--ca") { Description = "Folder holding the dev CA (ca.crt, ca.key)", Required = true };
        var role = new Option<string>("--role") { Description = $"One of {string.Join(", ", DevCertificates.Roles)}", Required = true };
        var name = new Option<string>("--name") { Description = "The certificate's common name (a person's or a service's name)", Required = true };
        var site = new Option<string?>("--site") { Description = "The site the holder belongs to (nodes, clinicians, site admins)" };
        var dns = new Option<string[]>("--dns") { Description = "Extra DNS names the certificate serves (nodes and the coordinator get localhost)", AllowMultipleArgumentsPerToken = true };
        var ip = new Option<string[]>("--ip") { Description = "Extra IP addresses the certificate serves", AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--out") { Description = "Prefix of the files to write: PREFIX.crt and PREFIX.key", Required = true };
        var command = new Command("issue-cert", "Issue one more certificate from the dev CA") { ca, role, name, site, dns, ip, output };
        command.SetAction(parse =>
        {
            var roleValue = parse.GetValue(role)!;
            if (!DevCertificates.Roles.Contains(roleValue)) throw new CommandException($"--role '{roleValue}' is not a role of the network; use one of {string.Join(", ", DevCertificates.Roles)}");
            var siteValue = parse.GetValue(site);
            if (siteValue is not null) SiteIds(siteValue);
            if (roleValue is "node" or "clinician" or "site-admin" or "portal" && siteValue is null) throw new CommandException($"--site is required for role {roleValue}");
            var dnsNames = parse.GetValue(dns) is { Length: > 0 } d ? d : null;
            var ips = parse.GetValue(ip) is { Length: > 0 } i ? i.Select(ParseIp).ToArray() : null;
            using var authority = DevCertificates.LoadAuthority(parse.GetValue(ca)!);
            using var certificate = DevCertificates.Issue(authority, roleValue, parse.GetValue(name)!, siteValue,
                dnsNames is null && ips is null ? null : dnsNames ?? ["localhost"], dnsNames is null && ips is null ? null : ips ?? [IPAddress.Loopback]);
            var prefix = parse.GetValue(output)!;
            DevCertificates.WritePem(certificate, prefix + ".crt", prefix + ".key");
            Console.WriteLine($"wrote {prefix}.crt and {prefix}.key ({roleValue}{(siteValue is null ? "" : $", site {siteValue}")})");
            return 0;
        });
        return command;
    }

    /// <summary>Site ids become URIs and file names: lower-case letters, digits and '-'.</summary>
    public static IReadOnlyList<string> SiteIds(string value)
    {
        var ids = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (ids.Length == 0) throw new CommandException("--sites names no site");
        foreach (var id in ids)
            if (!id.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-'))
                throw new CommandException($"site id '{id}' may hold only lower-case letters, digits and '-'");
        if (ids.Distinct().Count() != ids.Length) throw new CommandException("--sites names a site twice");
        return ids;
    }

    static IPAddress ParseIp(string value) =>
        IPAddress.TryParse(value, out var address) ? address : throw new CommandException($"--ip '{value}' is not an IP address");
}
