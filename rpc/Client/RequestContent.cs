using System.Net;
using Google.Protobuf;
using Midia.Rpc.Core;

namespace Midia.Rpc.Client;

/// <summary>
/// A request body the caller fills while the call runs: SocketsHttpHandler hands us the HTTP/2
/// stream and we keep it until the writer completes (or the call ends).
/// </summary>
sealed class StreamingRequestContent : HttpContent
{
    readonly TaskCompletionSource<Stream> stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly TaskCompletionSource complete = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<Stream> StreamTask => stream.Task;
    public void Complete() => complete.TrySetResult();
    public void Abort(Exception reason)
    {
        stream.TrySetException(reason);
        complete.TrySetException(reason);
    }

    protected override Task SerializeToStreamAsync(Stream target, TransportContext? context) => SerializeToStreamAsync(target, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream target, TransportContext? context, CancellationToken cancellationToken)
    {
        // Flushing at once sends the request HEADERS now instead of with the first message.
        await target.FlushAsync(cancellationToken).ConfigureAwait(false);
        stream.TrySetResult(target);
        using var registration = cancellationToken.Register(() => complete.TrySetCanceled(cancellationToken));
        await complete.Task.ConfigureAwait(false);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}

/// <summary>The request stream of a client- or duplex-streaming call; one write at a time, as in grpc-dotnet.</summary>
sealed class HttpClientStreamWriter<TRequest, TResponse>(ClientCall<TRequest, TResponse> call, StreamingRequestContent content) : IClientStreamWriter<TRequest>
    where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
{
    readonly SemaphoreSlim writing = new(1, 1);
    bool completed;

    public WriteOptions? WriteOptions { get; set; }

    public async Task WriteAsync(TRequest message)
    {
        if (completed) throw new InvalidOperationException("Request stream has already been completed.");
        ThrowIfFinished();
        var frame = call.Frame(message, WriteOptions);
        if (!writing.Wait(0)) throw new InvalidOperationException("Can't write the message because the previous write is in progress.");
        try
        {
            var finished = call.Finished;
            var ready = await Task.WhenAny(content.StreamTask, finished).ConfigureAwait(false);
            if (ready == finished) ThrowIfFinished();
            var stream = await content.StreamTask.ConfigureAwait(false);
            await stream.WriteAsync(frame, call.CallToken).ConfigureAwait(false);
            await stream.FlushAsync(call.CallToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not RpcException and not InvalidOperationException)
        {
            // The request stream broke because the call ended: report the call's status.
            await Task.WhenAny(call.Finished, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
            ThrowIfFinished();
            throw new RpcException(new Status(StatusCode.Unavailable, $"Failed to send the message: {e.Message}"));
        }
        finally { writing.Release(); }
    }

    public Task CompleteAsync()
    {
        completed = true;
        content.Complete();
        return Task.CompletedTask;
    }

    void ThrowIfFinished()
    {
        if (call.Finished.IsCompleted)
        {
            var status = call.Finished.Result;
            throw new RpcException(status.StatusCode == StatusCode.OK ? new Status(StatusCode.OK, "The call has already finished.") : status);
        }
    }
}

/// <summary>The response stream of a server- or duplex-streaming call.</summary>
sealed class HttpClientResponseStream<TRequest, TResponse>(ClientCall<TRequest, TResponse> call) : IAsyncStreamReader<TResponse>
    where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
{
    TResponse? current;

    public TResponse Current => current ?? throw new InvalidOperationException("Call MoveNext first.");

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        current = await call.ReadMessageAsync(cancellationToken).ConfigureAwait(false);
        return current is not null;
    }
}
