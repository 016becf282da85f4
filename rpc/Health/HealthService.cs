using System.Threading.Channels;
using Google.Protobuf.Reflection;
using Grpc.Health.V1;
using Midia.Rpc.Authorization;
using Midia.Rpc.Core;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Midia.Rpc.Health;

/// <summary>
/// grpc.health.v1.Health: the serving status of the whole server ("") and of each service.
/// Check answers NOT_FOUND for an unknown name; Watch streams every change (SERVICE_UNKNOWN
/// while a name is unknown) until the caller leaves or the server stops.
/// </summary>
[AllowAnyAuthenticatedPeer]
public sealed class HealthService(CancellationToken serverStopping)
{
    public static ServiceDescriptor Descriptor => HealthReflection.Descriptor.Services[0];

    readonly Lock gate = new();
    readonly Dictionary<string, ServingStatus> statuses = new(StringComparer.Ordinal) { [""] = ServingStatus.Serving };
    readonly Dictionary<string, List<Channel<ServingStatus>>> watchers = new(StringComparer.Ordinal);

    public void SetStatus(string service, ServingStatus status)
    {
        lock (gate)
        {
            statuses[service] = status;
            Notify(service, status);
        }
    }

    public void ClearStatus(string service)
    {
        lock (gate)
        {
            statuses.Remove(service);
            Notify(service, ServingStatus.ServiceUnknown);
        }
    }

    public ServingStatus? GetStatus(string service)
    {
        lock (gate) return statuses.TryGetValue(service, out var status) ? status : null;
    }

    internal void SetAllNotServing()
    {
        lock (gate)
            foreach (var service in statuses.Keys.ToList()) { statuses[service] = ServingStatus.NotServing; Notify(service, ServingStatus.NotServing); }
    }

    void Notify(string service, ServingStatus status)
    {
        if (watchers.TryGetValue(service, out var list))
            foreach (var watcher in list) watcher.Writer.TryWrite(status);
    }

    public Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context) =>
        GetStatus(request.Service) is { } status
            ? Task.FromResult(new HealthCheckResponse { Status = status })
            : throw new RpcException(StatusCode.NotFound, $"Unknown service '{request.Service}'.");

    public async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context)
    {
        // Only the latest status matters to a watcher that falls behind.
        var changes = Channel.CreateBounded<ServingStatus>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
        ServingStatus current;
        lock (gate)
        {
            current = statuses.TryGetValue(request.Service, out var known) ? known : ServingStatus.ServiceUnknown;
            if (!watchers.TryGetValue(request.Service, out var list)) watchers[request.Service] = list = [];
            list.Add(changes);
        }
        using var done = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, serverStopping);
        try
        {
            await responseStream.WriteAsync(new HealthCheckResponse { Status = current }).ConfigureAwait(false);
            while (true)
            {
                var next = await changes.Reader.ReadAsync(done.Token).ConfigureAwait(false);
                if (next == current) continue;
                current = next;
                await responseStream.WriteAsync(new HealthCheckResponse { Status = current }).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (serverStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            // The server is stopping: the watch ends normally after its last NOT_SERVING.
            if (changes.Reader.TryRead(out var last) && last != current)
                await responseStream.WriteAsync(new HealthCheckResponse { Status = last }).ConfigureAwait(false);
        }
        finally
        {
            lock (gate) watchers[request.Service].Remove(changes);
        }
    }
}
