using System.Text.RegularExpressions;
using Midia.Protos.Coordinator.V1;
using Midia.Trust;
using Grpc.Core;

namespace Midia.Coordinator.Projects;

/// <summary>
/// midia.coordinator.v1.Projects: researchers register their projects and later publish the
/// outcome; every role (and every node) may list them — the patient report names them.
/// </summary>
public sealed partial class ProjectsService(ProjectRegistry registry, TimeProvider time) : Protos.Coordinator.V1.Projects.ProjectsBase
{
    /// <summary>Project ids as researchers type them in `midia count --project`.</summary>
    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,62}$")]
    public static partial Regex IdFormat();

    const int MaxText = 2000;

    [RequireRole("researcher")]
    public override Task<Project> Register(RegisterProjectRequest request, ServerCallContext context)
    {
        var id = request.Id.Trim();
        if (!IdFormat().IsMatch(id))
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"id: '{id}' is not a project id: 2 to 63 characters a-z, 0-9 and '-', starting with a letter or digit"));
        var project = new Project
        {
            Id = id,
            Title = Text(request.Title, "title"),
            Question = Text(request.Question, "question"),
            Institution = Text(request.Institution, "institution"),
            RegisteredBy = context.Caller().Name,
            RegisteredUnixMs = time.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        if (!registry.TryAdd(project))
            throw new RpcException(new Status(StatusCode.AlreadyExists, $"project {id} is already registered (by {registry.Find(id)?.RegisteredBy}): choose another id"));
        return Task.FromResult(project);
    }

    [RequireRole("researcher")]
    public override Task<Project> Publish(PublishResultRequest request, ServerCallContext context)
    {
        var id = request.Id.Trim();
        var project = registry.Find(id) ?? throw new RpcException(new Status(StatusCode.NotFound, $"project {id} is not registered: midia project register --id {id} ..."));
        var researcher = context.Caller().Name;
        if (project.RegisteredBy != researcher)
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"project {id} was registered by {project.RegisteredBy}: only they may publish its result"));
        var result = Text(request.Result, "result");
        var at = time.GetUtcNow().ToUnixTimeMilliseconds();
        registry.Publish(id, result, at);
        project.Result = result;
        project.PublishedUnixMs = at;
        return Task.FromResult(project);
    }

    [RequireRole("researcher", "clinician", "site-admin", "coordinator", "node")]
    public override Task<ListProjectsReply> List(ListProjectsRequest request, ServerCallContext context) =>
        Task.FromResult(new ListProjectsReply { Projects = { registry.All() } });

    static string Text(string value, string field)
    {
        var text = value.Trim();
        if (text.Length == 0) throw new RpcException(new Status(StatusCode.InvalidArgument, $"{field}: missing: a patient reads it in their report, say it plainly"));
        if (text.Length > MaxText) throw new RpcException(new Status(StatusCode.InvalidArgument, $"{field}: {text.Length} characters; at most {MaxText}"));
        return text;
    }
}
