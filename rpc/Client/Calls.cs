using System.Runtime.CompilerServices;
using Midia.Rpc.Core;

namespace Midia.Rpc.Client;

/// <summary>A running unary call (as Grpc.Core.AsyncUnaryCall): await it for the response.</summary>
public sealed class AsyncUnaryCall<TResponse>(Task<TResponse> responseAsync, Task<Metadata> responseHeadersAsync,
    Func<Status> getStatus, Func<Metadata> getTrailers, Action dispose) : IDisposable
{
    public Task<TResponse> ResponseAsync => responseAsync;
    public Task<Metadata> ResponseHeadersAsync => responseHeadersAsync;
    public Status GetStatus() => getStatus();
    public Metadata GetTrailers() => getTrailers();
    public TaskAwaiter<TResponse> GetAwaiter() => responseAsync.GetAwaiter();
    /// <summary>Cancels the call if it still runs (resets the stream).</summary>
    public void Dispose() => dispose();
}

public sealed class AsyncServerStreamingCall<TResponse>(IAsyncStreamReader<TResponse> responseStream, Task<Metadata> responseHeadersAsync,
    Func<Status> getStatus, Func<Metadata> getTrailers, Action dispose) : IDisposable
{
    public IAsyncStreamReader<TResponse> ResponseStream => responseStream;
    public Task<Metadata> ResponseHeadersAsync => responseHeadersAsync;
    public Status GetStatus() => getStatus();
    public Metadata GetTrailers() => getTrailers();
    public void Dispose() => dispose();
}

public sealed class AsyncClientStreamingCall<TRequest, TResponse>(IClientStreamWriter<TRequest> requestStream, Task<TResponse> responseAsync,
    Task<Metadata> responseHeadersAsync, Func<Status> getStatus, Func<Metadata> getTrailers, Action dispose) : IDisposable
{
    public IClientStreamWriter<TRequest> RequestStream => requestStream;
    public Task<TResponse> ResponseAsync => responseAsync;
    public Task<Metadata> ResponseHeadersAsync => responseHeadersAsync;
    public Status GetStatus() => getStatus();
    public Metadata GetTrailers() => getTrailers();
    public TaskAwaiter<TResponse> GetAwaiter() => responseAsync.GetAwaiter();
    public void Dispose() => dispose();
}

public sealed class AsyncDuplexStreamingCall<TRequest, TResponse>(IClientStreamWriter<TRequest> requestStream, IAsyncStreamReader<TResponse> responseStream,
    Task<Metadata> responseHeadersAsync, Func<Status> getStatus, Func<Metadata> getTrailers, Action dispose) : IDisposable
{
    public IClientStreamWriter<TRequest> RequestStream => requestStream;
    public IAsyncStreamReader<TResponse> ResponseStream => responseStream;
    public Task<Metadata> ResponseHeadersAsync => responseHeadersAsync;
    public Status GetStatus() => getStatus();
    public Metadata GetTrailers() => getTrailers();
    public void Dispose() => dispose();
}
