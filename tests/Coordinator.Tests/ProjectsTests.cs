using Midia.Coordinator.Tests.Support;
using Midia.Protos.Coordinator.V1;
using Grpc.Core;

namespace Midia.Coordinator.Tests;

/// <summary>The project registry over the real server: who may register, publish and list, and counts that name a project.</summary>
public sealed class ProjectsTests
{
    static async Task<TestNetwork> OneSite()
    {
        var network = new TestNetwork();
        (await network.AddNodeAsync("erlangen")).Behaviour = (_, _) => Task.FromResult(ScriptedNode.Released(60));
        await network.StartCoordinatorAsync();
        return network;
    }

    [Fact]
    public async Task ACountNamingAnUnregisteredProjectIsRefusedBeforeAnySiteIsAsked()
    {
        await using var network = await OneSite();
        var researcher = network.Client();

        var refused = await Assert.ThrowsAsync<RpcException>(() => researcher.CountAsync(TestNetwork.Query(), "not-registered"));

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.StartsWith("project not-registered is not registered: midia project register --id not-registered", refused.Status.Detail);
        Assert.Equal(0, network.Node("erlangen").Calls);
        // Once registered, the same count goes out; a count without a project needs none.
        await researcher.RegisterProjectAsync("not-registered");
        Assert.Equal(60, (await researcher.CountAsync(TestNetwork.Query(), "not-registered")).Total().Value);
        Assert.Equal(60, (await researcher.CountAsync(TestNetwork.Query(1))).Total().Value);
        Assert.Equal(2, network.Node("erlangen").Calls);
    }

    [Fact]
    public async Task RegisterChecksTheIdAndRefusesATakenOneAndOnlyResearchersMayRegister()
    {
        await using var network = await OneSite();
        var researcher = network.Client();

        var project = await researcher.RegisterProjectAsync("her2-relapse", "HER2 relapse", "How many HER2+ patients relapse?", "FAU Erlangen");
        Assert.Equal(("her2-relapse", "Dr Test Researcher", ""), (project.Id, project.RegisteredBy, project.Result));

        foreach (var bad in new[] { "A", "x", "Upper", "-lead", "has space", new string('a', 64) })
            Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<RpcException>(() => researcher.RegisterProjectAsync(bad))).StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<RpcException>(() => researcher.RegisterProjectAsync("no-title", title: " "))).StatusCode);
        var taken = await Assert.ThrowsAsync<RpcException>(() => network.Client(name: "Dr Other").RegisterProjectAsync("her2-relapse", "Mine now"));
        Assert.Equal(StatusCode.AlreadyExists, taken.StatusCode);
        foreach (var role in new[] { "clinician", "site-admin", "node" })
            Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(() => network.Client(role, "someone").RegisterProjectAsync("by-" + role))).StatusCode);

        var listed = await network.Client().ListProjectsAsync();
        var only = Assert.Single(listed.Projects);
        Assert.Equal(("HER2 relapse", "How many HER2+ patients relapse?", "FAU Erlangen"), (only.Title, only.Question, only.Institution));
    }

    [Fact]
    public async Task OnlyTheRegistrantMayPublishAndEveryRoleIncludingNodesSeesTheResult()
    {
        await using var network = await OneSite();
        var owner = network.Client();
        await owner.RegisterProjectAsync("ms-dmt");

        var stranger = await Assert.ThrowsAsync<RpcException>(() => network.Client(name: "Dr Other").PublishAsync(new PublishResultRequest { Id = "ms-dmt", Result = "Not my result to give" }));
        Assert.Equal(StatusCode.PermissionDenied, stranger.StatusCode);
        Assert.Contains("registered by Dr Test Researcher", stranger.Status.Detail);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => owner.PublishAsync(new PublishResultRequest { Id = "nope", Result = "x" }));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);

        var published = await owner.PublishAsync(new PublishResultRequest { Id = "ms-dmt", Result = "Fewer relapses on newer therapies." });
        Assert.True(published.PublishedUnixMs > 0);
        foreach (var role in new[] { "researcher", "clinician", "site-admin", "node" })
        {
            var listed = await network.Client(role, "reader-" + role).ListProjectsAsync();
            Assert.Equal("Fewer relapses on newer therapies.", Assert.Single(listed.Projects).Result);
        }
    }
}
