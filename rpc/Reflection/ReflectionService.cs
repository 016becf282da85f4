using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Reflection.V1;
using Midia.Rpc.Authorization;
using Midia.Rpc.Core;

namespace Midia.Rpc.Reflection;

/// <summary>
/// grpc.reflection.v1 server reflection (what grpcurl and Postman use): the bound services, and
/// their .proto files as serialized FileDescriptorProtos with every transitive dependency.
/// </summary>
[AllowAnyAuthenticatedPeer]
public sealed class ReflectionService
{
    public static ServiceDescriptor DescriptorV1 => Grpc.Reflection.V1.ReflectionReflection.Descriptor.Services[0];
    public static ServiceDescriptor DescriptorV1Alpha => Grpc.Reflection.V1Alpha.ReflectionReflection.Descriptor.Services[0];

    readonly List<string> serviceNames;
    readonly Dictionary<string, FileDescriptor> filesByName = new(StringComparer.Ordinal);
    readonly Dictionary<string, FileDescriptor> filesBySymbol = new(StringComparer.Ordinal);
    readonly Dictionary<string, List<FieldDescriptor>> extensionsByType = new(StringComparer.Ordinal);

    public ReflectionService(IEnumerable<ServiceDescriptor> services)
    {
        var list = services.ToList();
        serviceNames = list.Select(s => s.FullName).Distinct().Order(StringComparer.Ordinal).ToList();
        foreach (var service in list) AddFile(service.File);
    }

    void AddFile(FileDescriptor file)
    {
        if (!filesByName.TryAdd(file.Name, file)) return;
        foreach (var dependency in file.Dependencies) AddFile(dependency);
        foreach (var message in file.MessageTypes) AddMessage(message, file);
        foreach (var e in file.EnumTypes) filesBySymbol.TryAdd(e.FullName, file);
        foreach (var service in file.Services)
        {
            filesBySymbol.TryAdd(service.FullName, file);
            foreach (var method in service.Methods) filesBySymbol.TryAdd(method.FullName, file);
        }
        foreach (var extension in file.Extensions.UnorderedExtensions) AddExtension(extension);
    }

    void AddMessage(MessageDescriptor message, FileDescriptor file)
    {
        filesBySymbol.TryAdd(message.FullName, file);
        foreach (var field in message.Fields.InDeclarationOrder()) filesBySymbol.TryAdd(field.FullName, file);
        foreach (var nested in message.NestedTypes) AddMessage(nested, file);
        foreach (var e in message.EnumTypes) filesBySymbol.TryAdd(e.FullName, file);
        foreach (var extension in message.Extensions.UnorderedExtensions) AddExtension(extension);
    }

    void AddExtension(FieldDescriptor extension)
    {
        var extendee = extension.ExtendeeType.FullName;
        if (!extensionsByType.TryGetValue(extendee, out var list)) extensionsByType[extendee] = list = [];
        list.Add(extension);
    }

    public async Task ServerReflectionInfo(IAsyncStreamReader<ServerReflectionRequest> requestStream,
        IServerStreamWriter<ServerReflectionResponse> responseStream, ServerCallContext context)
    {
        while (await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
            await responseStream.WriteAsync(Answer(requestStream.Current)).ConfigureAwait(false);
    }

    /// <summary>One answer per request, errors inside the answer (the stream goes on), as the protocol asks.</summary>
    public ServerReflectionResponse Answer(ServerReflectionRequest request)
    {
        var response = new ServerReflectionResponse { ValidHost = request.Host, OriginalRequest = request };
        switch (request.MessageRequestCase)
        {
            case ServerReflectionRequest.MessageRequestOneofCase.ListServices:
                response.ListServicesResponse = new ListServiceResponse();
                response.ListServicesResponse.Service.AddRange(serviceNames.Select(n => new ServiceResponse { Name = n }));
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileByFilename:
                if (filesByName.TryGetValue(request.FileByFilename, out var byName)) response.FileDescriptorResponse = WithDependencies(byName);
                else response.ErrorResponse = NotFound($"File not found: {request.FileByFilename}");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileContainingSymbol:
                if (filesBySymbol.TryGetValue(request.FileContainingSymbol.TrimStart('.'), out var bySymbol)) response.FileDescriptorResponse = WithDependencies(bySymbol);
                else response.ErrorResponse = NotFound($"Symbol not found: {request.FileContainingSymbol}");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileContainingExtension:
                var wanted = request.FileContainingExtension;
                var extension = extensionsByType.GetValueOrDefault(wanted.ContainingType)?.FirstOrDefault(e => e.FieldNumber == wanted.ExtensionNumber);
                if (extension is not null) response.FileDescriptorResponse = WithDependencies(extension.File);
                else response.ErrorResponse = NotFound($"Extension not found: {wanted.ContainingType} {wanted.ExtensionNumber}");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.AllExtensionNumbersOfType:
                if (filesBySymbol.ContainsKey(request.AllExtensionNumbersOfType))
                {
                    response.AllExtensionNumbersResponse = new ExtensionNumberResponse { BaseTypeName = request.AllExtensionNumbersOfType };
                    response.AllExtensionNumbersResponse.ExtensionNumber.AddRange(
                        extensionsByType.GetValueOrDefault(request.AllExtensionNumbersOfType)?.Select(e => e.FieldNumber) ?? []);
                }
                else response.ErrorResponse = NotFound($"Type not found: {request.AllExtensionNumbersOfType}");
                break;
            default:
                response.ErrorResponse = new ErrorResponse { ErrorCode = (int)StatusCode.InvalidArgument, ErrorMessage = "Request names nothing to look up." };
                break;
        }
        return response;
    }

    static ErrorResponse NotFound(string message) => new() { ErrorCode = (int)StatusCode.NotFound, ErrorMessage = message };

    /// <summary>The file first, then its dependencies, each once.</summary>
    static FileDescriptorResponse WithDependencies(FileDescriptor file)
    {
        var response = new FileDescriptorResponse();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<FileDescriptor>([file]);
        while (pending.TryDequeue(out var next))
        {
            if (!seen.Add(next.Name)) continue;
            response.FileDescriptorProto.Add(next.SerializedData);
            foreach (var dependency in next.Dependencies) pending.Enqueue(dependency);
        }
        return response;
    }
}

/// <summary>grpc.reflection.v1alpha: the same messages under another package, so it reuses v1 through the wire format.</summary>
[AllowAnyAuthenticatedPeer]
public sealed class ReflectionV1AlphaService(ReflectionService v1)
{
    public async Task ServerReflectionInfo(IAsyncStreamReader<Grpc.Reflection.V1Alpha.ServerReflectionRequest> requestStream,
        IServerStreamWriter<Grpc.Reflection.V1Alpha.ServerReflectionResponse> responseStream, ServerCallContext context)
    {
        while (await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            var answer = v1.Answer(ServerReflectionRequest.Parser.ParseFrom(requestStream.Current.ToByteString()));
            await responseStream.WriteAsync(Grpc.Reflection.V1Alpha.ServerReflectionResponse.Parser.ParseFrom(answer.ToByteString())).ConfigureAwait(false);
        }
    }
}
