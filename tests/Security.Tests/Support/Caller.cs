using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Midia.Rpc.Core;

namespace Midia.Security.Tests.Support;

/// <summary>How one call ended, as the caller saw it.</summary>
public sealed record CallOutcome(StatusCode? Status, string Detail)
{
    /// <summary>No gRPC status at all: the connection was refused or dropped in the TLS handshake.</summary>
    public bool TlsRefused => Status is null;
    public override string ToString() => Status is null ? $"no call ({Detail})" : $"{Status} ({Detail})";
}

/// <summary>
/// A gRPC caller at the HTTP/2 level holding one identity — a client certificate or none at all —
/// so the very same code calls every RPC as every identity, including ones our own client would
/// not even try (no certificate, an expired one, one from another CA). Requests are single
/// messages; an answer is read up to its first response message, which already proves the
/// server let the call past authorization.
/// </summary>
public sealed class Caller : IDisposable
{
    readonly HttpClient invoker;
    readonly string? endUserHeader;

    /// <param name="endUser">The end-user metadata a portal sends for a signed-in person (role, name, site); null: none.</param>
    public Caller(string name, X509Certificate2? certificate, (string Role, string Name, string? Site)? endUser = null)
    {
        Name = name;
        // The same bytes the portal sends (Delegation.EndUserEntry), base64 as gRPC carries "-bin" metadata.
        if (endUser is { } user) endUserHeader = Convert.ToBase64String(Midia.Rpc.Authorization.Delegation.EndUserEntry(user.Role, user.Name, user.Site).ValueBytes);
        invoker = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ClientCertificates = certificate is null ? null : [certificate],
                // Present the certificate even where the server's CA list would not select it (a foreign CA's).
                LocalCertificateSelectionCallback = certificate is null ? null : (_, _, _, _, _) => certificate,
                // The servers are this test's own processes; their side of the handshake is not under test here.
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            },
        }) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public string Name { get; }

    /// <summary>Calls /SERVICE/METHOD with one request message (its protobuf bytes); the outcome and the first response message, if any.</summary>
    public async Task<(CallOutcome Outcome, byte[]? FirstMessage)> CallAsync(Uri server, string service, string method, byte[] request, CancellationToken cancellationToken)
    {
        var framed = new byte[5 + request.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)request.Length);
        request.CopyTo(framed, 5);
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(server, $"/{service}/{method}"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(framed),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        message.Headers.TryAddWithoutValidation("te", "trailers");
        if (endUserHeader is not null) message.Headers.TryAddWithoutValidation(Midia.Rpc.Authorization.Delegation.Header, endUserHeader);
        HttpResponseMessage response;
        try { response = await invoker.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken); }
        catch (Exception e) when (e is HttpRequestException or IOException or AuthenticationException)
        {
            return (new CallOutcome(null, Innermost(e)), null);
        }
        using (response)
        {
            // Trailers-only: the server refused (or failed) the call before any message.
            if (GrpcStatus(response.Headers) is { } refusal) return (refusal, null);
            try
            {
                var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                var header = new byte[5];
                if (await ReadFullyAsync(body, header, cancellationToken))
                {
                    var payload = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1))];
                    if (!await ReadFullyAsync(body, payload, cancellationToken)) return (new CallOutcome(StatusCode.Internal, "response message cut short"), null);
                    // A response message: the handler ran, so authorization let the call through (a stream may go on; it is not awaited).
                    return (new CallOutcome(StatusCode.OK, "answered"), payload);
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                return (new CallOutcome(StatusCode.Unknown, "response broke off: " + Innermost(e)), null);
            }
            return (GrpcStatus(response.TrailingHeaders) ?? new CallOutcome(StatusCode.Unknown, "no grpc-status"), null);
        }
    }

    static CallOutcome? GrpcStatus(HttpHeaders headers)
    {
        if (!headers.TryGetValues("grpc-status", out var values)) return null;
        var code = (StatusCode)int.Parse(values.First(), System.Globalization.CultureInfo.InvariantCulture);
        var detail = headers.TryGetValues("grpc-message", out var m) ? Uri.UnescapeDataString(m.First()) : "";
        return new CallOutcome(code, detail);
    }

    static async Task<bool> ReadFullyAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0) return false;
            read += n;
        }
        return true;
    }

    static string Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message;
    }

    public void Dispose() => invoker.Dispose();
}
