using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace Midia.Trust;

/// <summary>
/// Every call has a request id: the caller's <see cref="Header"/> if it sent one, else a new one.
/// It is in the scope of every log line the call writes and goes back in the response trailers,
/// so a line in a node's log can be matched to the coordinator's and the caller's.
/// </summary>
public sealed class RequestIds(ILogger<RequestIds> logger) : Interceptor
{
    public const string Header = "x-request-id";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        using (Scope(context)) return await continuation(request, context).ConfigureAwait(false);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using (Scope(context)) return await continuation(requestStream, context).ConfigureAwait(false);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using (Scope(context)) await continuation(request, responseStream, context).ConfigureAwait(false);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using (Scope(context)) await continuation(requestStream, responseStream, context).ConfigureAwait(false);
    }

    IDisposable? Scope(ServerCallContext context)
    {
        // Read from the HTTP request: context.RequestHeaders would decode every header of the call first.
        string? given = context.GetHttpContext().Request.Headers[Header];
        var id = given is { Length: > 0 and <= 64 } && given.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? given : Guid.NewGuid().ToString("N");
        context.ResponseTrailers.Add(Header, id);
        return logger.BeginScope(new KeyValuePair<string, object>[] { new("RequestId", id) });
    }
}
