using Midia.Rpc.Client;
using Midia.Rpc.Tests.Proto;

namespace Midia.Rpc.Tests.Support;

/// <summary>The typed methods of the Echo service, built from its descriptor.</summary>
public static class EchoMethods
{
    static readonly Google.Protobuf.Reflection.ServiceDescriptor Service = TestNetwork.EchoDescriptor;
    public static readonly Method<EchoRequest, EchoReply> Unary = Method<EchoRequest, EchoReply>.From(Service, "Unary");
    public static readonly Method<EchoRequest, EchoReply> ServerStream = Method<EchoRequest, EchoReply>.From(Service, "ServerStream");
    public static readonly Method<EchoRequest, EchoReply> ClientStream = Method<EchoRequest, EchoReply>.From(Service, "ClientStream");
    public static readonly Method<EchoRequest, EchoReply> Duplex = Method<EchoRequest, EchoReply>.From(Service, "Duplex");
    public static readonly Method<EchoRequest, EchoReply> Sleep = Method<EchoRequest, EchoReply>.From(Service, "Sleep");
    public static readonly Method<EchoRequest, EchoReply> CoordinatorOnly = Method<EchoRequest, EchoReply>.From(Service, "CoordinatorOnly");
    public static readonly Method<EchoRequest, EchoReply> WhoAmI = Method<EchoRequest, EchoReply>.From(Service, "WhoAmI");
    public static readonly Method<EchoRequest, EchoReply> Missing = Method<EchoRequest, EchoReply>.From(Service, "Missing");
}
