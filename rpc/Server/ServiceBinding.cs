using System.Reflection;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Microsoft.Extensions.Logging;
using Midia.Rpc.Authorization;
using Midia.Rpc.Core;

namespace Midia.Rpc.Server;

/// <summary>
/// Binds an implementation object to a protobuf service descriptor: for every rpc, the public
/// method of the same name with the grpc-dotnet shape of its kind, and its authorization rule.
/// Mistakes (wrong shape, wrong message types, no rule) fail here, at startup, not on a call.
/// </summary>
static class ServiceBinding
{
    public static IEnumerable<ServerCallHandler> Bind(ServiceDescriptor service, object implementation, RpcServerOptions options, ILogger logger)
    {
        var type = implementation.GetType();
        foreach (var rpc in service.Methods)
        {
            var path = $"/{service.FullName}/{rpc.Name}";
            var candidates = type.GetMethods(BindingFlags.Public | BindingFlags.Instance).Where(m => m.Name == rpc.Name).ToList();
            if (candidates.Count == 0)
            {
                ServerLog.MethodNotImplemented(logger, service.FullName, rpc.Name);
                yield return new UnimplementedCallHandler(path, options, logger);
                continue;
            }
            if (candidates.Count > 1) throw new InvalidOperationException($"{type.Name} has {candidates.Count} public methods named {rpc.Name}; rpc {rpc.FullName} needs exactly one");
            var method = candidates[0];
            var kind = KindOf(rpc);
            CheckShape(method, rpc, kind);
            var rule = AuthorizationRule.For(method, rpc.FullName);
            var factory = typeof(ServiceBinding).GetMethod(kind switch
            {
                MethodType.Unary => nameof(Unary),
                MethodType.ServerStreaming => nameof(ServerStreaming),
                MethodType.ClientStreaming => nameof(ClientStreaming),
                _ => nameof(Duplex),
            }, BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(rpc.InputType.ClrType, rpc.OutputType.ClrType);
            yield return (ServerCallHandler)factory.Invoke(null, [path, rule, options, logger, rpc.InputType.Parser, implementation, method])!;
        }
    }

    public static MethodType KindOf(MethodDescriptor rpc) => (rpc.IsClientStreaming, rpc.IsServerStreaming) switch
    {
        (false, false) => MethodType.Unary,
        (false, true) => MethodType.ServerStreaming,
        (true, false) => MethodType.ClientStreaming,
        _ => MethodType.DuplexStreaming,
    };

    static void CheckShape(MethodInfo method, MethodDescriptor rpc, MethodType kind)
    {
        var req = rpc.InputType.ClrType;
        var res = rpc.OutputType.ClrType;
        var (expected, returns, text) = kind switch
        {
            MethodType.Unary => (new[] { req, typeof(ServerCallContext) }, typeof(Task<>).MakeGenericType(res),
                $"Task<{res.Name}> {rpc.Name}({req.Name}, ServerCallContext)"),
            MethodType.ServerStreaming => (new[] { req, typeof(IServerStreamWriter<>).MakeGenericType(res), typeof(ServerCallContext) }, typeof(Task),
                $"Task {rpc.Name}({req.Name}, IServerStreamWriter<{res.Name}>, ServerCallContext)"),
            MethodType.ClientStreaming => (new[] { typeof(IAsyncStreamReader<>).MakeGenericType(req), typeof(ServerCallContext) }, typeof(Task<>).MakeGenericType(res),
                $"Task<{res.Name}> {rpc.Name}(IAsyncStreamReader<{req.Name}>, ServerCallContext)"),
            _ => (new[] { typeof(IAsyncStreamReader<>).MakeGenericType(req), typeof(IServerStreamWriter<>).MakeGenericType(res), typeof(ServerCallContext) }, typeof(Task),
                $"Task {rpc.Name}(IAsyncStreamReader<{req.Name}>, IServerStreamWriter<{res.Name}>, ServerCallContext)"),
        };
        var actual = method.GetParameters().Select(p => p.ParameterType).ToArray();
        if (!actual.SequenceEqual(expected) || method.ReturnType != returns)
            throw new InvalidOperationException($"{method.DeclaringType?.Name}.{method.Name} does not fit rpc {rpc.FullName}: expected {text}");
    }

    static ServerCallHandler Unary<TReq, TRes>(string path, AuthorizationRule rule, RpcServerOptions options, ILogger logger, MessageParser parser, object target, MethodInfo method)
        where TReq : class, IMessage<TReq> where TRes : class, IMessage<TRes> =>
        new UnaryCallHandler<TReq, TRes>(path, rule, options, logger, (MessageParser<TReq>)parser, method.CreateDelegate<UnaryServerMethod<TReq, TRes>>(target));

    static ServerCallHandler ServerStreaming<TReq, TRes>(string path, AuthorizationRule rule, RpcServerOptions options, ILogger logger, MessageParser parser, object target, MethodInfo method)
        where TReq : class, IMessage<TReq> where TRes : class, IMessage<TRes> =>
        new ServerStreamingCallHandler<TReq, TRes>(path, rule, options, logger, (MessageParser<TReq>)parser, method.CreateDelegate<ServerStreamingServerMethod<TReq, TRes>>(target));

    static ServerCallHandler ClientStreaming<TReq, TRes>(string path, AuthorizationRule rule, RpcServerOptions options, ILogger logger, MessageParser parser, object target, MethodInfo method)
        where TReq : class, IMessage<TReq> where TRes : class, IMessage<TRes> =>
        new ClientStreamingCallHandler<TReq, TRes>(path, rule, options, logger, (MessageParser<TReq>)parser, method.CreateDelegate<ClientStreamingServerMethod<TReq, TRes>>(target));

    static ServerCallHandler Duplex<TReq, TRes>(string path, AuthorizationRule rule, RpcServerOptions options, ILogger logger, MessageParser parser, object target, MethodInfo method)
        where TReq : class, IMessage<TReq> where TRes : class, IMessage<TRes> =>
        new DuplexStreamingCallHandler<TReq, TRes>(path, rule, options, logger, (MessageParser<TReq>)parser, method.CreateDelegate<DuplexStreamingServerMethod<TReq, TRes>>(target));
}
