namespace Midia.Rpc.Protocol;

/// <summary>Header names and fixed values of the gRPC-over-HTTP/2 protocol (PROTOCOL-HTTP2.md).</summary>
public static class GrpcHeaders
{
    public const string ContentType = "application/grpc";
    public const string Status = "grpc-status";
    public const string Message = "grpc-message";
    public const string Timeout = "grpc-timeout";
    public const string Encoding = "grpc-encoding";
    public const string AcceptEncoding = "grpc-accept-encoding";
    /// <summary>Set by a handler in its response headers to pick the response compression (as in grpc-dotnet); never sent.</summary>
    public const string CompressionRequest = "grpc-internal-encoding-request";
    public const string Te = "te";
    public const string Trailers = "trailers";
    public const string UserAgent = "midia-rpc/1.0";

    /// <summary>Request headers that are protocol, not metadata: handlers never see them in RequestHeaders.</summary>
    public static bool IsProtocolHeader(string name) =>
        name.StartsWith(':')
        || name.Equals("content-type", StringComparison.OrdinalIgnoreCase)
        || name.Equals(Te, StringComparison.OrdinalIgnoreCase)
        || name.Equals("host", StringComparison.OrdinalIgnoreCase)
        || name.Equals("content-length", StringComparison.OrdinalIgnoreCase)
        || name.Equals(Timeout, StringComparison.OrdinalIgnoreCase)
        || name.Equals(Status, StringComparison.OrdinalIgnoreCase)
        || name.Equals(Message, StringComparison.OrdinalIgnoreCase);

    /// <summary>application/grpc and application/grpc+proto, optionally with parameters (";charset=...").</summary>
    public static bool IsGrpcContentType(string? contentType)
    {
        if (contentType is null) return false;
        var span = contentType.AsSpan();
        var semicolon = span.IndexOf(';');
        if (semicolon >= 0) span = span[..semicolon];
        span = span.Trim();
        return span.Equals("application/grpc", StringComparison.OrdinalIgnoreCase)
            || span.Equals("application/grpc+proto", StringComparison.OrdinalIgnoreCase);
    }
}
