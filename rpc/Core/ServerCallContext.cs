using System.Security.Cryptography.X509Certificates;
using Midia.Rpc.Tls;

namespace Midia.Rpc.Core;

/// <summary>
/// What a handler knows about its call (same members as Grpc.Core.ServerCallContext, plus the
/// authenticated peer from the client certificate).
/// </summary>
public abstract class ServerCallContext
{
    /// <summary>"/package.Service/Method".</summary>
    public abstract string Method { get; }
    public abstract string Host { get; }
    /// <summary>The transport address, e.g. "ipv4:127.0.0.1:51234".</summary>
    public abstract string Peer { get; }
    /// <summary>Who called, from their verified certificate (role, site, name).</summary>
    public abstract PeerIdentity AuthenticatedPeer { get; }
    public abstract X509Certificate2? ClientCertificate { get; }
    /// <summary>When the caller gives up (UTC); DateTime.MaxValue without a deadline.</summary>
    public abstract DateTime Deadline { get; }
    /// <summary>Fires when the caller cancels, the connection drops, or the deadline passes.</summary>
    public abstract CancellationToken CancellationToken { get; }
    public abstract Metadata RequestHeaders { get; }
    public abstract Metadata ResponseTrailers { get; }
    /// <summary>The status sent at the end when the handler returns normally (OK unless set).</summary>
    public abstract Status Status { get; set; }
    public abstract WriteOptions? WriteOptions { get; set; }
    public abstract IDictionary<object, object?> UserState { get; }

    /// <summary>grpc-encoding of the request messages ("gzip"), null for identity. (Not in grpc-dotnet, where it hides in the HttpContext.)</summary>
    public virtual string? RequestEncoding => null;

    /// <summary>Whether the last request message read arrived compressed (its flag byte), null before the first. (Midia extension.)</summary>
    public virtual bool? RequestMessageCompressed => null;

    /// <summary>Sends the response headers now (at most once, before the first message).</summary>
    public abstract Task WriteResponseHeadersAsync(Metadata responseHeaders);
}
