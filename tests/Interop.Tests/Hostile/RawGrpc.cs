using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Midia.Trust;

namespace Midia.Interop.Tests.Hostile;

/// <summary>One framed gRPC message as it came: its compressed flag and its (still compressed) bytes.</summary>
public sealed record RawMessage(bool Compressed, byte[] Bytes);

/// <summary>What a raw HTTP/2 request got back: HTTP status, headers, body bytes and trailers — or that the stream was closed.</summary>
public sealed record RawResponse(int HttpStatus, Dictionary<string, string> Headers, byte[] Body, Dictionary<string, string> Trailers, Exception? StreamError)
{
    /// <summary>grpc-status from the trailers, or from the headers of a trailers-only response.</summary>
    public string? GrpcStatus => Trailers.GetValueOrDefault("grpc-status") ?? Headers.GetValueOrDefault("grpc-status");
    public string? GrpcMessage => Trailers.GetValueOrDefault("grpc-message") ?? Headers.GetValueOrDefault("grpc-message");
    public bool TrailersOnly => Headers.ContainsKey("grpc-status") && Body.Length == 0 && Trailers.Count == 0;
    public string? Header(string name) => Headers.GetValueOrDefault(name);

    /// <summary>The body read as length-prefixed messages (the spec's framing, read here independently of any gRPC stack).</summary>
    public IReadOnlyList<RawMessage> Messages
    {
        get
        {
            var messages = new List<RawMessage>();
            for (var at = 0; at < Body.Length;)
            {
                var length = (int)BinaryPrimitives.ReadUInt32BigEndian(Body.AsSpan(at + 1));
                messages.Add(new RawMessage(Body[at] == 1, Body.AsSpan(at + 5, length).ToArray()));
                at += 5 + length;
            }
            return messages;
        }
    }

    /// <summary>
    /// What happened, in a few words for tallies: a closed stream, an HTTP error (grpc-dotnet adds a
    /// grpc-status to its 415, but the HTTP status is what a non-gRPC client reads), or a gRPC status.
    /// </summary>
    public string Outcome => StreamError is not null ? "closed stream" : HttpStatus != 200 ? $"HTTP {HttpStatus}" : $"grpc-status {GrpcStatus ?? "(none)"}";
}

/// <summary>
/// gRPC by hand on SocketsHttpHandler (HTTP/2 over mutual TLS), independent of any gRPC client:
/// requests no gRPC client would send — any headers, any body bytes — and a look at exactly what
/// a server puts on the wire (per-message compressed flags, trailers-only responses). The server's
/// certificate must chain to the client's network CA.
/// </summary>
public sealed class RawGrpc : IDisposable
{
    readonly HttpMessageInvoker invoker;

    /// <param name="multipleConnections">False keeps every call on one HTTP/2 connection (beyond its stream limit, calls wait).</param>
    public RawGrpc(Uri address, TlsMaterial client, bool multipleConnections = true)
    {
        Address = address;
        var authorities = client.Authorities;
        invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [client.Certificate],
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    if (certificate is null) return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
                },
            },
            EnableMultipleHttp2Connections = multipleConnections,
            AutomaticDecompression = DecompressionMethods.None,
        });
    }

    public Uri Address { get; }

    public static byte[] Frame(IMessage message, byte flag = 0) => Frame(message.ToByteArray(), flag);

    public static byte[] Frame(byte[] payload, byte flag = 0, uint? declaredLength = null)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), declaredLength ?? (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>One uncompressed request message; every response message is read.</summary>
    public Task<RawResponse> CallAsync(string path, IMessage request, string acceptEncoding = "identity,gzip") =>
        SendAsync(path, Frame(request), [("grpc-accept-encoding", acceptEncoding)]);

    public Task<RawResponse> SendAsync(string path, byte[] body, IEnumerable<(string Name, string Value)>? headers = null,
        string contentType = "application/grpc", TimeSpan? timeout = null, string? te = "trailers") =>
        SendAsync(path, new ByteArrayContent(body), headers, contentType, timeout, te);

    /// <summary>Sends the body as the content writes it (a slow client's content writes it slowly) and reads the whole answer.</summary>
    public async Task<RawResponse> SendAsync(string path, HttpContent body, IEnumerable<(string Name, string Value)>? headers = null,
        string contentType = "application/grpc", TimeSpan? timeout = null, string? te = "trailers")
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        HttpResponseMessage sent;
        try
        {
            sent = await StartAsync(path, body, headers, cts.Token, contentType, te);
        }
        catch (HttpRequestException e)
        {
            // The server reset the stream (or the connection) before any response headers.
            return new RawResponse(0, [], [], [], e);
        }
        using var response = sent;
        var head = response.Headers.Concat(response.Content.Headers).ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(",", h.Value));
        byte[] bytes;
        try
        {
            bytes = await response.Content.ReadAsByteArrayAsync(cts.Token);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return new RawResponse((int)response.StatusCode, head, [], [], e);
        }
        var trailers = response.TrailingHeaders.ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(",", h.Value));
        return new RawResponse((int)response.StatusCode, head, bytes, trailers, null);
    }

    /// <summary>Sends the request and returns once the response headers are in; the body is the caller's to read (or not: a slow reader).</summary>
    public Task<HttpResponseMessage> StartAsync(string path, HttpContent body, IEnumerable<(string Name, string Value)>? headers, CancellationToken cancellationToken,
        string contentType = "application/grpc", string? te = "trailers")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Address, path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = body,
        };
        if (te is not null) request.Headers.TryAddWithoutValidation("te", te);
        request.Content.Headers.TryAddWithoutValidation("content-type", contentType);
        foreach (var (name, value) in headers ?? []) request.Headers.TryAddWithoutValidation(name, value);
        return invoker.SendAsync(request, cancellationToken);
    }

    public void Dispose() => invoker.Dispose();
}
