using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using Midia.Rpc.Client;
using Midia.Rpc.Core;
using Midia.Rpc.Tests.Proto;
using Midia.Rpc.Tests.Support;

namespace Midia.Rpc.Tests.Client;

[Collection(NetworkCollection.Name)]
public sealed class ClientCallTests(TestNetwork network)
{
    [Fact]
    public async Task ADeadlineEndsTheCallWithDeadlineExceededAndTheHandlerTokenFires()
    {
        using var channel = network.Channel();
        var key = Guid.NewGuid().ToString();
        // The handler may not have run yet when the client gives up (a loaded CI machine): whichever
        // side comes first creates the signal, and the handler's token must still fire.
        var cancelled = network.Echo.Cancelled.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var call = channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Sleep, new(Deadline: DateTime.UtcNow.AddMilliseconds(1000)), new EchoRequest { Text = key });
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task AReaderWaitingOnATrailersOnlyFailureAlwaysGetsItsStatus()
    {
        // A race once let a reader woken by the headers find no body and no status (NullReferenceException).
        using var channel = network.Channel();
        var invoker = channel.CreateCallInvoker();
        for (var i = 0; i < 200; i++)
        {
            using var call = invoker.AsyncServerStreamingCall(EchoMethods.ServerStream, new(), new EchoRequest { StatusCode = (int)StatusCode.ResourceExhausted, StatusMessage = "quota" });
            var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
            Assert.Equal("quota", error.Status.Detail);
        }
    }

    [Fact]
    public async Task ADeadlineAlreadyPastFailsWithoutWaiting()
    {
        using var channel = network.Channel();
        var call = channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, new(Deadline: DateTime.UtcNow.AddSeconds(-1)), new EchoRequest());
        Assert.Equal(StatusCode.DeadlineExceeded, (await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync)).StatusCode);
        Assert.Equal(StatusCode.DeadlineExceeded, (await Assert.ThrowsAsync<RpcException>(() => call.ResponseHeadersAsync)).StatusCode);
    }

    [Fact]
    public async Task TheClientSendsItsDeadlineAsGrpcTimeout()
    {
        using var channel = network.Channel();
        var reply = await channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, new(Deadline: DateTime.UtcNow.AddSeconds(20)), new EchoRequest());
        Assert.InRange(reply.DeadlineMs, 10_000, 20_000);
        var none = await channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, new(), new EchoRequest());
        Assert.Equal(-1, none.DeadlineMs);
    }

    [Fact]
    public async Task CancellingACallResetsTheStreamAndTheHandlerTokenFires()
    {
        using var channel = network.Channel();
        var key = Guid.NewGuid().ToString();
        using var cts = new CancellationTokenSource();
        var call = channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Sleep, new(CancellationToken: cts.Token), new EchoRequest { Text = key });
        // Wait until the handler runs, so the cancellation has to travel to the server.
        while (!network.Echo.Cancelled.ContainsKey(key)) await Task.Delay(10);
        await cts.CancelAsync();
        Assert.Equal(StatusCode.Cancelled, (await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync)).StatusCode);
        await network.Echo.Cancelled[key].Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task CancellingAStreamingCallAfterTheFirstResponseEndsIt()
    {
        using var channel = network.Channel();
        using var cts = new CancellationTokenSource();
        using var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(EchoMethods.Duplex, new(CancellationToken: cts.Token));
        await call.RequestStream.WriteAsync(new EchoRequest { Text = "first" });
        Assert.True(await call.ResponseStream.MoveNext());
        await cts.CancelAsync();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
    }

    [Theory]
    [InlineData(StatusCode.NotFound, "no such thing")]
    [InlineData(StatusCode.InvalidArgument, "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n")]
    [InlineData(StatusCode.FailedPrecondition, "100% sure")]
    public async Task StatusCodeAndMessageRoundTrip(StatusCode code, string message)
    {
        using var channel = network.Channel();
        var call = channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, new(), new EchoRequest { StatusCode = (int)code, StatusMessage = message });
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(new Status(code, message), error.Status);
        Assert.Equal(new Status(code, message), call.GetStatus());
    }

    [Fact]
    public async Task AnErrorAfterStreamedMessagesArrivesInTheTrailers()
    {
        using var channel = network.Channel();
        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(EchoMethods.ServerStream, new(),
            new EchoRequest { Count = 3, StatusCode = (int)StatusCode.Aborted, StatusMessage = "late failure" });
        var received = 0;
        var error = await Assert.ThrowsAsync<RpcException>(async () => { while (await call.ResponseStream.MoveNext()) received++; });
        Assert.Equal(3, received);
        Assert.Equal(new Status(StatusCode.Aborted, "late failure"), error.Status);
    }

    [Fact]
    public async Task TextAndBinaryMetadataTravelInHeadersAndTrailers()
    {
        using var channel = network.Channel();
        var binary = new byte[] { 0, 255, 1, 254, 128 };
        var headers = new Metadata { { "x-text", "plain value" }, { "x-data-bin", binary } };
        var call = channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, new(Headers: headers), new EchoRequest());
        var responseHeaders = await call.ResponseHeadersAsync;
        await call;
        Assert.Equal("plain value", responseHeaders.GetValue("x-text"));
        Assert.Equal(binary, responseHeaders.GetValueBytes("x-data-bin"));
        Assert.Equal("plain value", call.GetTrailers().GetValue("x-text"));
        Assert.Equal(binary, call.GetTrailers().GetValueBytes("x-data-bin"));
    }

    [Fact]
    public async Task UnknownMethodsAndServicesAreUnimplemented()
    {
        using var channel = network.Channel();
        var invoker = channel.CreateCallInvoker();
        var missing = await Assert.ThrowsAsync<RpcException>(() => invoker.AsyncUnaryCall(EchoMethods.Missing, new(), new EchoRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unimplemented, missing.StatusCode);
        var unbound = Method<EchoRequest, EchoReply>.From(EchoReflection.Descriptor.Services.Single(s => s.Name == "Unruled"), "Unary");
        var service = await Assert.ThrowsAsync<RpcException>(() => invoker.AsyncUnaryCall(unbound, new(), new EchoRequest()).ResponseAsync);
        Assert.Equal(new Status(StatusCode.Unimplemented, "Service is unimplemented."), service.Status);
    }

    [Fact]
    public async Task TheServerRefusesARequestOverItsReceiveLimit()
    {
        using var channel = network.Channel();
        var call = channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, new(), new EchoRequest { Payload = ByteString.CopyFrom(new byte[5 * 1024 * 1024]) });
        Assert.Equal(StatusCode.ResourceExhausted, (await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync)).StatusCode);
    }

    [Fact]
    public async Task TheClientRefusesAResponseOverItsReceiveLimit()
    {
        using var channel = network.Channel(options: new RpcChannelOptions { Tls = null!, MaxReceiveMessageSize = 1000 });
        var call = channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, new(), new EchoRequest { Count = 2000 });
        Assert.Equal(StatusCode.ResourceExhausted, (await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync)).StatusCode);
        var fits = await channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, new(), new EchoRequest { Count = 500 });
        Assert.Equal(500, fits.Payload.Length);
    }

    [Fact]
    public async Task TheClientRefusesToSendOverItsSendLimit()
    {
        using var channel = network.Channel(options: new RpcChannelOptions { Tls = null!, MaxSendMessageSize = 100 });
        var call = channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, new(), new EchoRequest { Payload = ByteString.CopyFrom(new byte[200]) });
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task GzipWorksInBothDirections()
    {
        using var channel = network.Channel();
        var invoker = channel.CreateCallInvoker();
        var gzip = new Metadata { { "grpc-internal-encoding-request", "gzip" } };
        var seen = await invoker.AsyncUnaryCall(EchoMethods.WhoAmI, new(Headers: gzip), new EchoRequest());
        Assert.Equal("gzip", seen.Text);
        var compressed = await invoker.AsyncUnaryCall(EchoMethods.Unary, new(), new EchoRequest { Text = "compress-response", Count = 50_000 });
        Assert.Equal(50_000, compressed.Payload.Length);
        using var stream = invoker.AsyncClientStreamingCall(EchoMethods.ClientStream, new(Headers: gzip));
        await stream.RequestStream.WriteAsync(new EchoRequest { Text = "a", Payload = ByteString.CopyFrom(new byte[100_000]) });
        stream.RequestStream.WriteOptions = new WriteOptions(WriteFlags.NoCompress);
        await stream.RequestStream.WriteAsync(new EchoRequest { Text = "b", Payload = ByteString.CopyFrom(new byte[10]) });
        await stream.RequestStream.CompleteAsync();
        var reply = await stream;
        Assert.Equal(("a,b", 100_010), (reply.Text, reply.Index));
    }

    [Fact]
    public async Task ListeningOnAPortInUseIsOneClearError()
    {
        await using var second = new Midia.Rpc.Server.RpcServer(new Midia.Rpc.Server.RpcServerOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, network.Server.Port),
            Tls = network.ServerTls,
        }, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        var error = await Assert.ThrowsAsync<Midia.Rpc.Hosting.CommandException>(() => second.StartAsync());
        Assert.Equal($"cannot listen on 127.0.0.1:{network.Server.Port}: the address is already in use", error.Message);
    }

    [Fact]
    public async Task TheHandlerSeesEachRequestMessagesCompressedFlag()
    {
        using var channel = network.Channel();
        using var call = channel.CreateCallInvoker().AsyncClientStreamingCall(EchoMethods.ClientStream, new(Headers: new Metadata { { "grpc-internal-encoding-request", "gzip" } }));
        call.RequestStream.WriteOptions = new WriteOptions(WriteFlags.NoCompress);
        await call.RequestStream.WriteAsync(new EchoRequest { Text = "flag?" });
        call.RequestStream.WriteOptions = null;
        await call.RequestStream.WriteAsync(new EchoRequest { Text = "flag?" });
        await call.RequestStream.CompleteAsync();
        Assert.Equal("plain,compressed", (await call).Text);
    }

    [Fact]
    public async Task NoServerListeningIsUnavailable()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        using var channel = RpcChannel.ForAddress($"https://127.0.0.1:{port}", new RpcChannelOptions { Tls = network.Material("researcher", "r") });
        var error = await Assert.ThrowsAsync<RpcException>(async () => await channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, new(), new EchoRequest()));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Theory]
    [InlineData(400, StatusCode.Internal)]
    [InlineData(401, StatusCode.Unauthenticated)]
    [InlineData(403, StatusCode.PermissionDenied)]
    [InlineData(404, StatusCode.Unimplemented)]
    [InlineData(429, StatusCode.Unavailable)]
    [InlineData(502, StatusCode.Unavailable)]
    [InlineData(503, StatusCode.Unavailable)]
    [InlineData(504, StatusCode.Unavailable)]
    [InlineData(500, StatusCode.Unknown)]
    public async Task AnHttpErrorWithoutGrpcStatusMapsToTheStandardCode(int httpStatus, StatusCode expected)
    {
        // A plain HTTP/2 server (not gRPC) on the same certificate answers with the status in the path.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l =>
        {
            l.Protocols = HttpProtocols.Http2;
            l.UseHttps(h => { h.ServerCertificate = network.ServerTls.Certificate; h.ClientCertificateMode = ClientCertificateMode.AllowCertificate; h.AllowAnyClientCertificate(); });
        }));
        await using var app = builder.Build();
        app.Run(context => { context.Response.StatusCode = int.Parse(context.Request.Path.Value!.Split('/')[1] == "s" ? "0" : context.Request.Headers["x-status"].ToString()); return Task.CompletedTask; });
        await app.StartAsync();
        var address = app.Urls.Count > 0 ? app.Urls.First() : ((Microsoft.AspNetCore.Hosting.Server.IServer)app.Services.GetService(typeof(Microsoft.AspNetCore.Hosting.Server.IServer))!)
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
        using var channel = RpcChannel.ForAddress(address, new RpcChannelOptions { Tls = network.Material("researcher", "r") });
        var call = channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, new(Headers: new Metadata { { "x-status", httpStatus.ToString() } }), new EchoRequest());
        Assert.Equal(expected, (await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync)).StatusCode);
        await app.StopAsync();
    }
}
