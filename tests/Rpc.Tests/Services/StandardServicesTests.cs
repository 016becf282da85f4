using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Health.V1;
using Midia.Rpc.Client;
using Midia.Rpc.Core;
using Midia.Rpc.Tests.Proto;
using Midia.Rpc.Tests.Support;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Midia.Rpc.Tests.Services;

[Collection(NetworkCollection.Name)]
public sealed class StandardServicesTests(TestNetwork network)
{
    static readonly Method<HealthCheckRequest, HealthCheckResponse> Check = Method<HealthCheckRequest, HealthCheckResponse>.From(HealthReflection.Descriptor.Services[0], "Check");
    static readonly Method<HealthCheckRequest, HealthCheckResponse> Watch = Method<HealthCheckRequest, HealthCheckResponse>.From(HealthReflection.Descriptor.Services[0], "Watch");

    [Fact]
    public async Task HealthCheckReportsTheServerAndEachBoundServiceAsServing()
    {
        using var channel = network.Channel();
        var invoker = channel.CreateCallInvoker();
        Assert.Equal(ServingStatus.Serving, (await invoker.AsyncUnaryCall(Check, new(), new HealthCheckRequest())).Status);
        Assert.Equal(ServingStatus.Serving, (await invoker.AsyncUnaryCall(Check, new(), new HealthCheckRequest { Service = "midia.rpc.test.Echo" })).Status);
    }

    [Fact]
    public async Task HealthCheckOfAnUnknownServiceIsNotFound()
    {
        using var channel = network.Channel();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await channel.CreateCallInvoker().AsyncUnaryCall(Check, new(), new HealthCheckRequest { Service = "no.Such" }));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task HealthWatchStreamsEveryChange()
    {
        using var channel = network.Channel();
        var name = "watched." + Guid.NewGuid().ToString("N");
        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(Watch, new(), new HealthCheckRequest { Service = name });
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal(ServingStatus.ServiceUnknown, call.ResponseStream.Current.Status);
        network.Server.Health.SetStatus(name, ServingStatus.Serving);
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal(ServingStatus.Serving, call.ResponseStream.Current.Status);
        network.Server.Health.SetStatus(name, ServingStatus.NotServing);
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal(ServingStatus.NotServing, call.ResponseStream.Current.Status);
    }

    static async Task<List<TResponse>> Ask<TRequest, TResponse>(RpcChannel channel, ServiceDescriptor service, params TRequest[] requests)
        where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
    {
        using var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(Method<TRequest, TResponse>.From(service, "ServerReflectionInfo"), new());
        var answers = new List<TResponse>();
        foreach (var request in requests)
        {
            await call.RequestStream.WriteAsync(request);
            Assert.True(await call.ResponseStream.MoveNext());
            answers.Add(call.ResponseStream.Current);
        }
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext());
        return answers;
    }

    [Fact]
    public async Task ReflectionV1ListsServicesAndServesFilesWithTheirDependencies()
    {
        using var channel = network.Channel();
        var answers = await Ask<Grpc.Reflection.V1.ServerReflectionRequest, Grpc.Reflection.V1.ServerReflectionResponse>(channel,
            Grpc.Reflection.V1.ReflectionReflection.Descriptor.Services[0],
            new() { ListServices = "" },
            new() { FileContainingSymbol = "midia.rpc.test.Echo" },
            new() { FileContainingSymbol = "midia.rpc.test.EchoRequest" },
            new() { FileByFilename = "grpc/health/v1/health.proto" },
            new() { FileContainingSymbol = "no.such.Symbol" });
        Assert.Equal(
            ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection", "midia.rpc.test.Echo"],
            answers[0].ListServicesResponse.Service.Select(s => s.Name).Order(StringComparer.Ordinal));
        var echoFile = FileDescriptorProto.Parser.ParseFrom(answers[1].FileDescriptorResponse.FileDescriptorProto[0]);
        Assert.Equal("echo.proto", echoFile.Name);
        Assert.Contains(echoFile.Service, s => s.Name == "Echo" && s.Method.Count == 8);
        Assert.Equal("echo.proto", FileDescriptorProto.Parser.ParseFrom(answers[2].FileDescriptorResponse.FileDescriptorProto[0]).Name);
        Assert.Equal("grpc/health/v1/health.proto", FileDescriptorProto.Parser.ParseFrom(answers[3].FileDescriptorResponse.FileDescriptorProto[0]).Name);
        Assert.Equal((int)StatusCode.NotFound, answers[4].ErrorResponse.ErrorCode);
    }

    [Fact]
    public async Task ReflectionIncludesTransitiveDependencies()
    {
        using var channel = network.Channel();
        var answers = await Ask<Grpc.Reflection.V1.ServerReflectionRequest, Grpc.Reflection.V1.ServerReflectionResponse>(channel,
            Grpc.Reflection.V1.ReflectionReflection.Descriptor.Services[0],
            new() { FileByFilename = "echo.proto" },
            new() { FileContainingSymbol = "google.protobuf.Timestamp" });
        var files = answers[0].FileDescriptorResponse.FileDescriptorProto.Select(b => FileDescriptorProto.Parser.ParseFrom(b).Name).ToList();
        Assert.Equal(["echo.proto", "google/protobuf/timestamp.proto"], files);
        Assert.Equal("google/protobuf/timestamp.proto", FileDescriptorProto.Parser.ParseFrom(answers[1].FileDescriptorResponse.FileDescriptorProto[0]).Name);
    }

    [Fact]
    public async Task ReflectionV1AlphaAnswersTheSame()
    {
        using var channel = network.Channel();
        var answers = await Ask<Grpc.Reflection.V1Alpha.ServerReflectionRequest, Grpc.Reflection.V1Alpha.ServerReflectionResponse>(channel,
            Grpc.Reflection.V1Alpha.ReflectionReflection.Descriptor.Services[0],
            new() { ListServices = "*" },
            new() { FileContainingSymbol = "midia.rpc.test.Echo.Unary" });
        Assert.Contains(answers[0].ListServicesResponse.Service, s => s.Name == "midia.rpc.test.Echo");
        Assert.Equal("echo.proto", FileDescriptorProto.Parser.ParseFrom(answers[1].FileDescriptorResponse.FileDescriptorProto[0]).Name);
    }
}

public sealed class ShutdownTests
{
    [Fact]
    public async Task StoppingTheServerTellsWatchersNotServingAndEndsTheirStreams()
    {
        await using var network = new OwnNetwork();
        await network.InitializeAsync();
        using var channel = network.Channel();
        var watch = Method<HealthCheckRequest, HealthCheckResponse>.From(HealthReflection.Descriptor.Services[0], "Watch");
        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(watch, new(), new HealthCheckRequest());
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal(ServingStatus.Serving, call.ResponseStream.Current.Status);
        var stopping = network.Server.StopAsync();
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal(ServingStatus.NotServing, call.ResponseStream.Current.Status);
        Assert.False(await call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>A network of its own, because this test stops the server.</summary>
    sealed class OwnNetwork : IAsyncDisposable
    {
        readonly TestNetwork inner = new();
        public Midia.Rpc.Server.RpcServer Server => inner.Server;
        public Task InitializeAsync() => inner.InitializeAsync();
        public RpcChannel Channel() => inner.Channel();
        public async ValueTask DisposeAsync() => await inner.DisposeAsync();
    }
}
