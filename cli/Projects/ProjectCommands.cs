using System.CommandLine;
using System.Text.Json;
using Midia.Cli.Research;
using Midia.Protos.Coordinator.V1;

namespace Midia.Cli.Projects;

/// <summary>
/// `midia project register|publish|list`: the network's research projects. A count with
/// --project needs a registered project; patients read its title, question and published
/// result in their transparency report.
/// </summary>
public static class ProjectCommands
{

    public static Command Command()
    {
        var project = new Command("project", "Register a research project, publish its result, list the network's projects");
        project.Subcommands.Add(Register());
        project.Subcommands.Add(Publish());
        project.Subcommands.Add(List());
        return project;
    }

    static Option<string> Required(string name, string help, string description) => new(name) { HelpName = help, Description = description, Required = true };

    static Command Register()
    {
        Option<string> id = Required("--id", "P", "The project id: 2-63 characters a-z, 0-9, '-' (what `midia count --project` names)"),
            title = Required("--title", "T", "The project's title, as patients will read it"),
            question = Required("--question", "Q", "The research question in plain words"),
            institution = Required("--institution", "I", "The responsible institution");
        var command = new Command("register", "Register a research project (role researcher); you alone may publish its result") { id, title, question, institution };
        var connection = new CoordinatorConnection().AddTo(command);
        command.SetAction(async (parse, cancel) =>
        {
            using var session = connection.Open(parse);
            var registered = await session.CallAsync((s, o) => s.Projects.RegisterAsync(new RegisterProjectRequest
            {
                Id = parse.GetValue(id)!, Title = parse.GetValue(title)!, Question = parse.GetValue(question)!, Institution = parse.GetValue(institution)!,
            }, o), cancel);
            Console.Out.WriteLine($"project {registered.Id} registered by {registered.RegisteredBy}: {registered.Title}");
            return 0;
        });
        return command;
    }

    static Command Publish()
    {
        Option<string> id = Required("--id", "P", "The project id"),
            result = Required("--result", "TEXT", "The outcome in a few plain sentences, as patients will read it");
        var command = new Command("publish", "Publish your project's result (only the researcher who registered it)") { id, result };
        var connection = new CoordinatorConnection().AddTo(command);
        command.SetAction(async (parse, cancel) =>
        {
            using var session = connection.Open(parse);
            var published = await session.CallAsync((s, o) => s.Projects.PublishAsync(new PublishResultRequest { Id = parse.GetValue(id)!, Result = parse.GetValue(result)! }, o), cancel);
            Console.Out.WriteLine($"project {published.Id}: result published at {DateTimeOffset.FromUnixTimeMilliseconds(published.PublishedUnixMs):yyyy-MM-dd HH:mm} UTC");
            return 0;
        });
        return command;
    }

    static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var command = new Command("list", "Every registered project, with its result when published") { json };
        var connection = new CoordinatorConnection().AddTo(command);
        command.SetAction(async (parse, cancel) =>
        {
            using var session = connection.Open(parse);
            var reply = await session.CallAsync((s, o) => s.Projects.ListAsync(new ListProjectsRequest(), o), cancel);
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    projects = reply.Projects.Select(p => new
                    {
                        id = p.Id, title = p.Title, question = p.Question, institution = p.Institution, registeredBy = p.RegisteredBy,
                        registered = DateTimeOffset.FromUnixTimeMilliseconds(p.RegisteredUnixMs),
                        result = p.Result.Length > 0 ? p.Result : null,
                        published = p.PublishedUnixMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(p.PublishedUnixMs) : (DateTimeOffset?)null,
                    }),
                }, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
                return 0;
            }
            if (reply.Projects.Count == 0) Console.Out.WriteLine("no projects registered");
            foreach (var p in reply.Projects)
            {
                Console.Out.WriteLine($"{p.Id}: {p.Title}");
                Console.Out.WriteLine($"  question:    {p.Question}");
                Console.Out.WriteLine($"  institution: {p.Institution} (registered by {p.RegisteredBy}, {DateTimeOffset.FromUnixTimeMilliseconds(p.RegisteredUnixMs):yyyy-MM-dd})");
                Console.Out.WriteLine(p.Result.Length > 0 ? $"  result:      {p.Result} (published {DateTimeOffset.FromUnixTimeMilliseconds(p.PublishedUnixMs):yyyy-MM-dd})" : "  result:      not published yet");
            }
            return 0;
        });
        return command;
    }
}
