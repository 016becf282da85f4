using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Midia.Rpc.Authorization;
using Midia.Rpc.Core;
using Midia.Rpc.Protocol;

namespace Midia.Rpc.Server;

/// <summary>
/// What every call goes through, whatever its kind: protocol headers, authorization, the
/// handler, and the end of the call with a status (one exception mapping, in the context).
/// </summary>
abstract class ServerCallHandler(string fullName, AuthorizationRule rule, RpcServerOptions options, ILogger logger)
{
    public string FullName => fullName;
    public AuthorizationRule Rule => rule;

    public async Task HandleCallAsync(HttpContext http)
    {
        var context = new HttpServerCallContext(http, options, logger);
        try
        {
            if (context.Initialize() is { } refusal)
            {
                await context.RefuseAsync(refusal).ConfigureAwait(false);
                return;
            }
            if (context.ResolveDelegation() is { } delegationRefused)
            {
                ServerLog.PermissionDenied(logger, fullName, context.CertificatePeer.ToString(), delegationRefused);
                await context.RefuseAsync(new Status(StatusCode.PermissionDenied, delegationRefused)).ConfigureAwait(false);
                return;
            }
            if (rule.Deny(context.AuthenticatedPeer) is { } denial)
            {
                ServerLog.PermissionDenied(logger, fullName, context.AuthenticatedPeer.ToString(), denial);
                await context.RefuseAsync(new Status(StatusCode.PermissionDenied, denial)).ConfigureAwait(false);
                return;
            }
            try
            {
                await HandleCallCoreAsync(context).ConfigureAwait(false);
                await context.EndCallAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                await context.EndCallAsync(e).ConfigureAwait(false);
            }
        }
        finally
        {
            await context.DisposeAsync().ConfigureAwait(false);
        }
    }

    protected abstract Task HandleCallCoreAsync(HttpServerCallContext context);

    /// <summary>Exactly one request message, and nothing after it.</summary>
    protected static async Task<TRequest> ReadSingleAsync<TRequest>(HttpServerCallContext context, MessageParser<TRequest> parser)
        where TRequest : class, IMessage<TRequest>
    {
        var reader = context.HttpContext.Request.BodyReader;
        var request = await MessageFraming.ReadAsync(reader, parser, context.RequestEncoding, context.Options.MaxReceiveMessageSize, context.CancellationToken, context.OnRequestMessage).ConfigureAwait(false)
            ?? throw new RpcException(StatusCode.Internal, "Request did not include a message.");
        if (await MessageFraming.ReadAsync(reader, parser, context.RequestEncoding, context.Options.MaxReceiveMessageSize, context.CancellationToken).ConfigureAwait(false) is not null)
            throw new RpcException(StatusCode.Internal, "Additional data after the request message.");
        return request;
    }
}

sealed class UnaryCallHandler<TRequest, TResponse>(string fullName, AuthorizationRule rule, RpcServerOptions options, ILogger logger,
    MessageParser<TRequest> parser, UnaryServerMethod<TRequest, TResponse> method) : ServerCallHandler(fullName, rule, options, logger)
    where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
{
    protected override async Task HandleCallCoreAsync(HttpServerCallContext context)
    {
        var request = await ReadSingleAsync(context, parser).ConfigureAwait(false);
        var response = await method(request, context).ConfigureAwait(false)
            ?? throw new RpcException(StatusCode.Internal, "Handler returned no response message.");
        // Not flushed: Kestrel sends headers, the message and the trailers together.
        await context.WriteMessageAsync(response, flush: false).ConfigureAwait(false);
    }
}

sealed class ServerStreamingCallHandler<TRequest, TResponse>(string fullName, AuthorizationRule rule, RpcServerOptions options, ILogger logger,
    MessageParser<TRequest> parser, ServerStreamingServerMethod<TRequest, TResponse> method) : ServerCallHandler(fullName, rule, options, logger)
    where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
{
    protected override async Task HandleCallCoreAsync(HttpServerCallContext context)
    {
        var request = await ReadSingleAsync(context, parser).ConfigureAwait(false);
        await method(request, new HttpResponseStreamWriter<TResponse>(context), context).ConfigureAwait(false);
    }
}

sealed class ClientStreamingCallHandler<TRequest, TResponse>(string fullName, AuthorizationRule rule, RpcServerOptions options, ILogger logger,
    MessageParser<TRequest> parser, ClientStreamingServerMethod<TRequest, TResponse> method) : ServerCallHandler(fullName, rule, options, logger)
    where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
{
    protected override async Task HandleCallCoreAsync(HttpServerCallContext context)
    {
        var response = await method(new HttpRequestStreamReader<TRequest>(context, parser), context).ConfigureAwait(false)
            ?? throw new RpcException(StatusCode.Internal, "Handler returned no response message.");
        await context.WriteMessageAsync(response, flush: false).ConfigureAwait(false);
    }
}

sealed class DuplexStreamingCallHandler<TRequest, TResponse>(string fullName, AuthorizationRule rule, RpcServerOptions options, ILogger logger,
    MessageParser<TRequest> parser, DuplexStreamingServerMethod<TRequest, TResponse> method) : ServerCallHandler(fullName, rule, options, logger)
    where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
{
    protected override Task HandleCallCoreAsync(HttpServerCallContext context) =>
        method(new HttpRequestStreamReader<TRequest>(context, parser), new HttpResponseStreamWriter<TResponse>(context), context);
}

/// <summary>A method of a bound service that has no implementation.</summary>
sealed class UnimplementedCallHandler(string fullName, RpcServerOptions options, ILogger logger)
    : ServerCallHandler(fullName, AuthorizationRule.AnyAuthenticatedPeer, options, logger)
{
    protected override Task HandleCallCoreAsync(HttpServerCallContext context) =>
        throw new RpcException(StatusCode.Unimplemented, "Method is unimplemented.");
}
