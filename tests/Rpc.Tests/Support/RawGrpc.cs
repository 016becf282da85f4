using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using Google.Protobuf;
using Midia.Rpc.Tls;

namespace Midia.Rpc.Tests.Support;

/// <summary>What a raw HTTP/2 request got back: HTTP status, headers, body bytes and trailers — or that the stream was closed.</summary>
public sealed record RawResponse(int HttpStatus, Dictionary<string, string> Headers, byte[] Body, Dictionary<string, string> Trailers, Exception? StreamError)
{
    /// <summary>grpc-status from the trailers, or from the headers of a trailers-only response.</summary>
    public string? GrpcStatus => Trailers.GetValueOrDefault("grpc-status") ?? Headers.GetValueOrDefault("grpc-status");
    public string? GrpcMessage => Trailers.GetValueOrDefault("grpc-message") ?? Headers.GetValueOrDefault("grpc-message");
    public bool TrailersOnly => Headers.ContainsKey("grpc-status") && Body.Length == 0 && Trailers.Count == 0;
}

/// <summary>
/// HTTP/2 requests to the server that our client would never send: any headers, any body bytes.
/// Uses SocketsHttpHandler directly, so the bytes reach Kestrel exactly as given.
/// </summary>
public sealed class RawGrpc : IDisposable
{
    readonly HttpMessageInvoker invoker;
    readonly Uri address;

    public RawGrpc(TestNetwork network, TlsMaterial? tls = null)
    {
        address = network.Server.Address;
        var material = tls ?? network.Material("researcher", "raw-client");
        invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [material.Certificate],
                RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null,
            },
            EnableMultipleHttp2Connections = true,
        });
    }

    public static byte[] Frame(IMessage message, byte flag = 0) => Frame(message.ToByteArray(), flag);

    public static byte[] Frame(byte[] payload, byte flag = 0, uint? declaredLength = null)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), declaredLength ?? (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    public async Task<RawResponse> SendAsync(string path, byte[] body, IEnumerable<(string Name, string Value)>? headers = null,
        string contentType = "application/grpc", TimeSpan? timeout = null, string? te = "trailers")
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(address, path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        if (te is not null) request.Headers.TryAddWithoutValidation("te", te);
        request.Content.Headers.TryAddWithoutValidation("content-type", contentType);
        foreach (var (name, value) in headers ?? []) request.Headers.TryAddWithoutValidation(name, value);
        using var response = await invoker.SendAsync(request, cts.Token);
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

    public void Dispose() => invoker.Dispose();
}
