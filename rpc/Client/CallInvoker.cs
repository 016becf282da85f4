using Google.Protobuf;
using Midia.Rpc.Core;

namespace Midia.Rpc.Client;

/// <summary>Starts calls of the four kinds on a channel (as Grpc.Core.CallInvoker).</summary>
public sealed class CallInvoker(RpcChannel channel)
{
    public RpcChannel Channel => channel;

    public AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options, TRequest request)
        where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
    {
        var call = new ClientCall<TRequest, TResponse>(channel, method, options);
        call.Start(SingleMessage(call, request));
        return new AsyncUnaryCall<TResponse>(WithDispose(call, call.ReadSingleResponseAsync()), call.ResponseHeadersTask, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    public AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options, TRequest request)
        where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
    {
        var call = new ClientCall<TRequest, TResponse>(channel, method, options);
        call.Start(SingleMessage(call, request));
        return new AsyncServerStreamingCall<TResponse>(new HttpClientResponseStream<TRequest, TResponse>(call), call.ResponseHeadersTask, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    public AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options)
        where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
    {
        var call = new ClientCall<TRequest, TResponse>(channel, method, options);
        var content = new StreamingRequestContent();
        call.Start(content);
        _ = call.Finished.ContinueWith(_ => content.Complete(), TaskScheduler.Default);
        return new AsyncClientStreamingCall<TRequest, TResponse>(new HttpClientStreamWriter<TRequest, TResponse>(call, content),
            WithDispose(call, call.ReadSingleResponseAsync()), call.ResponseHeadersTask, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    public AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options)
        where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
    {
        var call = new ClientCall<TRequest, TResponse>(channel, method, options);
        var content = new StreamingRequestContent();
        call.Start(content);
        _ = call.Finished.ContinueWith(_ => content.Complete(), TaskScheduler.Default);
        return new AsyncDuplexStreamingCall<TRequest, TResponse>(new HttpClientStreamWriter<TRequest, TResponse>(call, content),
            new HttpClientResponseStream<TRequest, TResponse>(call), call.ResponseHeadersTask, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    /// <summary>The framed request, or null when it cannot be sent (too large): the call then fails with that status, not here.</summary>
    static ByteArrayContent? SingleMessage<TRequest, TResponse>(ClientCall<TRequest, TResponse> call, TRequest request)
        where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
    {
        try
        {
            return new ByteArrayContent(call.Frame(request, call.Options.WriteOptions));
        }
        catch (RpcException e)
        {
            call.Finish(e.Status);
            return null;
        }
    }

    /// <summary>A call whose single response has arrived holds nothing worth keeping: release it.</summary>
    static async Task<TResponse> WithDispose<TRequest, TResponse>(ClientCall<TRequest, TResponse> call, Task<TResponse> response)
        where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
    {
        try { return await response.ConfigureAwait(false); }
        finally { call.Dispose(); }
    }
}
