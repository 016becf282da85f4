using Google.Protobuf;
using Google.Protobuf.Reflection;
using Midia.Rpc.Core;

namespace Midia.Rpc.Client;

/// <summary>One RPC as the client sees it (as Grpc.Core.Method), built from its protobuf descriptor.</summary>
public sealed class Method<TRequest, TResponse>
    where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
{
    public Method(MethodType type, string serviceName, string name, MessageParser<TResponse> responseParser)
    {
        Type = type;
        ServiceName = serviceName;
        Name = name;
        ResponseParser = responseParser;
        FullName = $"/{serviceName}/{name}";
    }

    public MethodType Type { get; }
    public string ServiceName { get; }
    public string Name { get; }
    /// <summary>"/package.Service/Method", the HTTP/2 :path.</summary>
    public string FullName { get; }
    public MessageParser<TResponse> ResponseParser { get; }

    public static Method<TRequest, TResponse> From(MethodDescriptor descriptor)
    {
        if (descriptor.InputType.ClrType != typeof(TRequest) || descriptor.OutputType.ClrType != typeof(TResponse))
            throw new ArgumentException($"rpc {descriptor.FullName} takes {descriptor.InputType.ClrType.Name} and returns {descriptor.OutputType.ClrType.Name}, not {typeof(TRequest).Name} / {typeof(TResponse).Name}");
        var type = (descriptor.IsClientStreaming, descriptor.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (false, true) => MethodType.ServerStreaming,
            (true, false) => MethodType.ClientStreaming,
            _ => MethodType.DuplexStreaming,
        };
        return new Method<TRequest, TResponse>(type, descriptor.Service.FullName, descriptor.Name, (MessageParser<TResponse>)descriptor.OutputType.Parser);
    }

    public static Method<TRequest, TResponse> From(ServiceDescriptor service, string name) =>
        From(service.FindMethodByName(name) ?? throw new ArgumentException($"service {service.FullName} has no rpc {name}"));

    public override string ToString() => FullName;
}
