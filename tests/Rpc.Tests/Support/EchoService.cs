using System.Collections.Concurrent;
using Google.Protobuf;
using Midia.Rpc.Authorization;
using Midia.Rpc.Core;
using Midia.Rpc.Tests.Proto;

namespace Midia.Rpc.Tests.Support;

/// <summary>The test service: echoes, streams, fails on request, and records when a handler's token fired.</summary>
[AllowAnyAuthenticatedPeer]
public sealed class EchoService
{
    /// <summary>Sleep calls by their text, completed when the handler's cancellation token fires.</summary>
    public ConcurrentDictionary<string, TaskCompletionSource> Cancelled { get; } = new();
    /// <summary>Stubborn Sleep calls that ran to their end.</summary>
    public ConcurrentDictionary<string, bool> Finished { get; } = new();

    static void FailIfAsked(EchoRequest request)
    {
        // A bug in a handler, with a detail that must never reach the caller.
        if (request.StatusCode < 0) throw new InvalidOperationException("secret internal detail");
        if (request.StatusCode != 0) throw new RpcException((StatusCode)request.StatusCode, request.StatusMessage);
    }

    public async Task<EchoReply> Unary(EchoRequest request, ServerCallContext context)
    {
        FailIfAsked(request);
        if (request.Text == "compress-response")
            await context.WriteResponseHeadersAsync(new Metadata { { "grpc-internal-encoding-request", "gzip" } });
        else if (context.RequestHeaders.Count > 0)
        {
            var echo = new Metadata();
            foreach (var entry in context.RequestHeaders.Where(e => e.Key.StartsWith("x-", StringComparison.Ordinal)))
            {
                echo.Add(entry);
                context.ResponseTrailers.Add(entry.IsBinary ? new Metadata.Entry(entry.Key, entry.ValueBytes) : new Metadata.Entry(entry.Key, entry.Value));
            }
            await context.WriteResponseHeadersAsync(echo);
        }
        return new EchoReply
        {
            Text = request.Text,
            Payload = request.Count > 0 ? ByteString.CopyFrom(new byte[request.Count]) : request.Payload,
            DeadlineMs = context.Deadline == DateTime.MaxValue ? -1 : (long)(context.Deadline - DateTime.UtcNow).TotalMilliseconds,
        };
    }

    public async Task ServerStream(EchoRequest request, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        for (var i = 0; i < request.Count; i++)
            await responseStream.WriteAsync(new EchoReply { Text = request.Text, Index = i });
        FailIfAsked(request);
    }

    public async Task<EchoReply> ClientStream(IAsyncStreamReader<EchoRequest> requestStream, ServerCallContext context)
    {
        var texts = new List<string>();
        long bytes = 0;
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            FailIfAsked(request);
            texts.Add(request.Text == "flag?" ? (context.RequestMessageCompressed == true ? "compressed" : "plain") : request.Text);
            bytes += request.Payload.Length;
        }
        return new EchoReply { Text = string.Join(",", texts), Index = (int)bytes };
    }

    public async Task Duplex(IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        var index = 0;
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            FailIfAsked(requestStream.Current);
            await responseStream.WriteAsync(new EchoReply { Text = requestStream.Current.Text, Index = index++, Payload = requestStream.Current.Payload });
        }
    }

    public async Task<EchoReply> Sleep(EchoRequest request, ServerCallContext context)
    {
        var cancelled = Cancelled.GetOrAdd(request.Text, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (request.Count > 0)
        {
            // A stubborn handler: ignores its token for count milliseconds.
            await Task.Delay(request.Count);
            Finished[request.Text] = true;
            return new EchoReply { Text = "too late" };
        }
        try
        {
            await Task.Delay(TimeSpan.FromMinutes(2), context.CancellationToken);
        }
        catch (OperationCanceledException)
        {
            cancelled.TrySetResult();
            throw;
        }
        return new EchoReply { Text = "woke up" };
    }

    [RequireRole("coordinator")]
    public Task<EchoReply> CoordinatorOnly(EchoRequest request, ServerCallContext context) =>
        Task.FromResult(new EchoReply { Text = "hello coordinator" });

    public Task<EchoReply> WhoAmI(EchoRequest request, ServerCallContext context) => Task.FromResult(new EchoReply
    {
        PeerName = context.AuthenticatedPeer.Name,
        PeerRole = context.AuthenticatedPeer.Role,
        PeerSite = context.AuthenticatedPeer.Site ?? "",
        Text = context.RequestEncoding ?? "identity",
    });
}
