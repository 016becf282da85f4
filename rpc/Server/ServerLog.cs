using Microsoft.Extensions.Logging;
using Midia.Rpc.Core;

namespace Midia.Rpc.Server;

static partial class ServerLog
{
    [LoggerMessage(1, LogLevel.Information, "gRPC server listening on {Address} (mutual TLS, HTTP/2) with {Services}")]
    public static partial void Listening(ILogger logger, string address, string services);

    [LoggerMessage(2, LogLevel.Error, "Handler of {Method} failed with {ExceptionType}; the caller gets UNKNOWN")]
    public static partial void HandlerFailed(ILogger logger, string method, string exceptionType);

    [LoggerMessage(9, LogLevel.Debug, "Handler of {Method} failed")]
    public static partial void HandlerFailedDetail(ILogger logger, string method, Exception exception);

    [LoggerMessage(3, LogLevel.Warning, "Refused a client certificate: {Problem}")]
    public static partial void ClientCertificateRefused(ILogger logger, string problem);

    [LoggerMessage(4, LogLevel.Information, "{Method} denied to {Peer}: {Problem}")]
    public static partial void PermissionDenied(ILogger logger, string method, string peer, string problem);

    [LoggerMessage(5, LogLevel.Debug, "{Method} exceeded its deadline after {Timeout}")]
    public static partial void DeadlineExceeded(ILogger logger, string method, TimeSpan timeout);

    [LoggerMessage(6, LogLevel.Debug, "{Method} ended with {StatusCode}")]
    public static partial void CallEnded(ILogger logger, string method, StatusCode statusCode);

    [LoggerMessage(7, LogLevel.Warning, "{Service}: rpc {Method} has no implementation and answers UNIMPLEMENTED")]
    public static partial void MethodNotImplemented(ILogger logger, string service, string method);

    [LoggerMessage(8, LogLevel.Information, "gRPC server on {Address} stopped")]
    public static partial void Stopped(ILogger logger, string address);
}
