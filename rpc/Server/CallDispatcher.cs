using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;
using Midia.Rpc.Core;
using Midia.Rpc.Protocol;

namespace Midia.Rpc.Server;

/// <summary>Routes a request by :path to its method; answers wrong content types (415) and unknown methods (UNIMPLEMENTED).</summary>
sealed class CallDispatcher(FrozenDictionary<string, ServerCallHandler> methods, FrozenSet<string> services)
{
    public Task DispatchAsync(HttpContext http)
    {
        var request = http.Request;
        if (!HttpMethods.IsPost(request.Method))
        {
            http.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return Task.CompletedTask;
        }
        if (!GrpcHeaders.IsGrpcContentType(request.ContentType))
        {
            http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            http.Response.Headers[GrpcHeaders.Status] = ((int)StatusCode.Internal).ToString(System.Globalization.CultureInfo.InvariantCulture);
            http.Response.Headers[GrpcHeaders.Message] = PercentEncoding.Encode($"Content-Type '{request.ContentType}' is not supported.");
            return Task.CompletedTask;
        }
        var path = request.Path.Value ?? "";
        if (methods.TryGetValue(path, out var handler)) return handler.HandleCallAsync(http);

        var slash = path.LastIndexOf('/');
        var service = slash > 0 ? path[1..slash] : "";
        var detail = services.Contains(service) ? "Method is unimplemented." : "Service is unimplemented.";
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = GrpcHeaders.ContentType;
        http.Response.Headers[GrpcHeaders.Status] = ((int)StatusCode.Unimplemented).ToString(System.Globalization.CultureInfo.InvariantCulture);
        http.Response.Headers[GrpcHeaders.Message] = detail;
        return Task.CompletedTask;
    }
}
