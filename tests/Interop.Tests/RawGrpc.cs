using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Midia.Interop.Pki;

namespace Midia.Interop.Tests;

/// <summary>
/// gRPC by hand on HttpClient (HTTP/2 over mTLS), independent of our rpc client: for looking at
/// what our server puts on the wire (per-message compressed flags, grpc-encoding).
/// </summary>
public sealed class RawGrpc : IDisposable
{
    readonly X509Certificate2 clientCertificate;
    readonly HttpClient http;

    public RawGrpc(ThrowAwayPki pki)
    {
        clientCertificate = X509Certificate2.CreateFromPemFile(pki.ClientCertPath, pki.ClientKeyPath);
        var authority = X509Certificate2.CreateFromPem(File.ReadAllText(pki.CaPath));
        http = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [X509CertificateLoader.LoadPkcs12(clientCertificate.Export(X509ContentType.Pkcs12), null)],
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    if (certificate is null) return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(authority);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(new X509Certificate2(certificate));
                },
            },
        })
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    /// <summary>One received message: its compressed flag and its (still compressed) bytes.</summary>
    public sealed record Frame(bool Compressed, byte[] Bytes);

    public sealed record Response(HttpResponseMessage Http, IReadOnlyList<Frame> Frames)
    {
        public string? Header(string name) => Http.Headers.TryGetValues(name, out var v) ? string.Join(",", v) : null;
        public string? Trailer(string name) => Http.TrailingHeaders.TryGetValues(name, out var v) ? string.Join(",", v) : null;
    }

    /// <summary>Sends one uncompressed request message and reads every framed response message.</summary>
    public async Task<Response> CallAsync(int port, string path, IMessage request, string acceptEncoding = "identity,gzip")
    {
        var payload = request.ToByteArray();
        var body = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(body, 5);
        using var message = new HttpRequestMessage(HttpMethod.Post, $"https://127.0.0.1:{port}{path}") 
        {
            Content = new ByteArrayContent(body),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        message.Content.Headers.TryAddWithoutValidation("content-type", "application/grpc");
        message.Headers.TryAddWithoutValidation("te", "trailers");
        message.Headers.TryAddWithoutValidation("grpc-accept-encoding", acceptEncoding);
        var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var frames = new List<Frame>();
        for (var at = 0; at < bytes.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at + 1));
            frames.Add(new Frame(bytes[at] == 1, bytes.AsSpan(at + 5, length).ToArray()));
            at += 5 + length;
        }
        return new Response(response, frames);
    }

    public void Dispose()
    {
        http.Dispose();
        clientCertificate.Dispose();
    }
}
