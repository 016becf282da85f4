using Google.Protobuf;
using Midia.Rpc.Core;
using Midia.Rpc.Protocol;

namespace Midia.Rpc.Server;

/// <summary>The request messages of a streaming call, read from the request body pipe.</summary>
sealed class HttpRequestStreamReader<T>(HttpServerCallContext context, MessageParser<T> parser) : IAsyncStreamReader<T>
    where T : class, IMessage<T>
{
    T? current;
    bool ended;

    public T Current => current ?? throw new InvalidOperationException("Call MoveNext first.");

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        if (ended) return false;
        using var linked = cancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, context.CancellationToken)
            : null;
        var token = linked?.Token ?? context.CancellationToken;
        current = await MessageFraming.ReadAsync(context.HttpContext.Request.BodyReader, parser, context.RequestEncoding,
            context.Options.MaxReceiveMessageSize, token, context.OnRequestMessage).ConfigureAwait(false);
        if (current is null) ended = true;
        return current is not null;
    }
}

/// <summary>The response messages of a streaming call; each write is flushed so it reaches the client at once.</summary>
sealed class HttpResponseStreamWriter<T>(HttpServerCallContext context) : IServerStreamWriter<T>
    where T : class, IMessage<T>
{
    public WriteOptions? WriteOptions
    {
        get => context.WriteOptions;
        set => context.WriteOptions = value;
    }

    public Task WriteAsync(T message) => context.WriteMessageAsync(message, flush: ((WriteOptions?.Flags ?? 0) & WriteFlags.BufferHint) == 0);
}
