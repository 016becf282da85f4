using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Midia.Coordinator.Sites;
using Midia.Protos.Consent.V1;
using Midia.Protos.Coordinator.V1;
using Midia.Protos.Node.V1;
using Grpc.Core;
using Midia.Trust;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Midia.Coordinator.FanOut;

/// <summary>
/// The coordinator's line to one site: one long-lived channel (HTTP/2 over mutual TLS, kept warm
/// and reused by every call, pinned to that site's node certificate), the node's typed clients, and one Polly pipeline — circuit breaker, deadline, retry on
/// UNAVAILABLE — plus what the coordinator last saw of the site. Every call ends in a
/// <see cref="SiteResult"/> with a status and a message a person can act on; none throws.
/// </summary>
public sealed class SiteConnection : IDisposable
{
    public const string SiteStatusTrailer = "midia-site-status";
    static readonly ResiliencePropertyKey<DateTime> DeadlineKey = new("midia.deadline");

    readonly NetworkChannel channel;
    readonly ResiliencePipeline pipeline;
    readonly CircuitBreakerStateProvider circuit = new();
    readonly FanOutOptions options;
    readonly TimeProvider time;
    long lastSuccessUnixMs, lastLatencyMicros, circuitRetryUnixMs;
    volatile string lastProblem = "";

    public SiteConnection(Site site, TlsMaterial tls, FanOutOptions options, TimeProvider time)
    {
        Site = site;
        this.options = options;
        this.time = time;
        // A peer that accepts TCP and never completes TLS (a black hole) is a timeout of the call's
        // deadline, not a connect failure racing it: the connect may take a little longer than the deadline.
        channel = NetworkChannel.Open(site.Address, tls, new ServerPin("node", site.Id), options.Deadline + TimeSpan.FromSeconds(1));
        Research = new SiteNode.SiteNodeClient(channel.Invoker);
        Care = new PatientCare.PatientCareClient(channel.Invoker);
        Consent = new ConsentReceiver.ConsentReceiverClient(channel.Invoker);
        pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            // Outermost: a site that keeps failing is not waited for at all until the break ends.
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 1.0,
                MinimumThroughput = Math.Max(2, options.BreakerFailures),
                SamplingDuration = options.BreakerSamplingDuration,
                BreakDuration = options.BreakDuration,
                StateProvider = circuit,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && MeansSiteDown(e)),
                OnOpened = args =>
                {
                    Interlocked.Exchange(ref circuitRetryUnixMs, (time.GetUtcNow() + args.BreakDuration).ToUnixTimeMilliseconds());
                    return ValueTask.CompletedTask;
                },
            })
            // The deadline covers every attempt and every retry delay.
            .AddTimeout(options.Deadline)
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(1, options.RetryAttempts),
                ShouldHandle = args => ValueTask.FromResult(options.RetryAttempts > 0
                    && args.Outcome.Exception is RpcException { StatusCode: StatusCode.Unavailable }
                    && args.Context.Properties.TryGetValue(DeadlineKey, out var deadline)
                    && deadline - time.GetUtcNow().UtcDateTime > MaxDelay(args.AttemptNumber)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(Jittered(args.AttemptNumber)),
            })
            .Build();
    }

    public Site Site { get; }
    public SiteNode.SiteNodeClient Research { get; }
    public PatientCare.PatientCareClient Care { get; }
    public ConsentReceiver.ConsentReceiverClient Consent { get; }

    /// <summary>Opens the HTTP/2 connection (TLS handshake included) before the first query needs it.</summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        try
        {
            await new Grpc.Health.V1.Health.HealthClient(channel.Invoker).CheckAsync(new Grpc.Health.V1.HealthCheckRequest(),
                deadline: time.GetUtcNow().UtcDateTime + options.Deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException)
        {
            // A site that is down now is found out by the first query, with the breaker's bookkeeping.
        }
    }

    /// <summary>One call through the pipeline; the result always names the site and says what happened.</summary>
    public async Task<SiteResult> AskAsync<TReply>(string queryType, SiteCall<TReply> call, Action<TReply, SiteResult> fill, CancellationToken cancellationToken)
        where TReply : class
    {
        var answer = await CallAsync(queryType, call, cancellationToken).ConfigureAwait(false);
        var result = new SiteResult { Site = Site.Id, Status = answer.Status, Message = answer.Message, LatencyMicros = answer.LatencyMicros };
        if (answer.Reply is { } reply) fill(reply, result);
        return result;
    }

    /// <summary>
    /// Any unary RPC of the site (for a query type, which refusals name) through the pipeline
    /// (breaker, deadline, retry on UNAVAILABLE): the reply, or the status and message a person can
    /// act on. Throws only when the caller cancels.
    /// </summary>
    public async Task<SiteAnswer<TReply>> CallAsync<TReply>(string queryType, SiteCall<TReply> call, CancellationToken cancellationToken)
        where TReply : class
    {
        var started = Stopwatch.GetTimestamp();
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(DeadlineKey, time.GetUtcNow().UtcDateTime + options.Deadline);
        var attempts = 0;
        try
        {
            var reply = await pipeline.ExecuteAsync(async ctx =>
            {
                attempts++;
                var deadline = ctx.Properties.GetValue(DeadlineKey, DateTime.MaxValue);
                using var pending = call(this, new CallOptions(deadline: deadline, cancellationToken: ctx.CancellationToken));
                try { return await pending.ResponseAsync.ConfigureAwait(false); }
                catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && ctx.CancellationToken.IsCancellationRequested)
                {
                    // Cancelled by the pipeline's deadline (or the researcher): let Polly see a cancellation, not a failure.
                    throw new OperationCanceledException(e.Message, e, ctx.CancellationToken);
                }
            }, context).ConfigureAwait(false);
            var latency = Stopwatch.GetElapsedTime(started);
            Succeeded(latency);
            return new SiteAnswer<TReply>(Site.Id, reply, SiteStatus.Ok, "", (long)latency.TotalMicroseconds, null);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var (status, message) = Describe(e, attempts, queryType);
            if (MeansSiteDown(e) || e is BrokenCircuitException) Failed(message, e is BrokenCircuitException);
            return new SiteAnswer<TReply>(Site.Id, null, status, message, (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds, e as RpcException);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    public SiteInfo Info()
    {
        var state = circuit.CircuitState switch
        {
            Polly.CircuitBreaker.CircuitState.Open or Polly.CircuitBreaker.CircuitState.Isolated => Protos.Coordinator.V1.CircuitState.Open,
            Polly.CircuitBreaker.CircuitState.HalfOpen => Protos.Coordinator.V1.CircuitState.HalfOpen,
            _ => Protos.Coordinator.V1.CircuitState.Closed,
        };
        return new SiteInfo
        {
            Id = Site.Id,
            Address = Site.Address.GetLeftPart(UriPartial.Authority),
            Circuit = state,
            LastSuccessUnixMs = Interlocked.Read(ref lastSuccessUnixMs),
            LastLatencyMicros = Interlocked.Read(ref lastLatencyMicros),
            LastProblem = lastProblem,
            CircuitRetryUnixMs = state == Protos.Coordinator.V1.CircuitState.Closed ? 0 : Interlocked.Read(ref circuitRetryUnixMs),
        };
    }

    /// <summary>The one mapping from what a site call threw to the status and message the researcher sees.</summary>
    (SiteStatus, string) Describe(Exception e, int attempts, string queryType)
    {
        var tries = attempts > 1 ? $" after {attempts} attempts" : "";
        return e switch
        {
            BrokenCircuitException broken => (SiteStatus.Unavailable,
                $"circuit open after {Math.Max(2, options.BreakerFailures)} failures{(lastProblem.Length > 0 ? $" (last: {lastProblem})" : "")}, retrying in {Seconds(broken.RetryAfter ?? options.BreakDuration)}"),
            TimeoutRejectedException => (SiteStatus.Timeout, $"no answer within {Seconds(options.Deadline)}"),
            RpcException { StatusCode: StatusCode.DeadlineExceeded } => (SiteStatus.Timeout, $"no answer within {Seconds(options.Deadline)}"),
            // The node is up but its database cannot take the request's audit entry (disk full, read-only).
            RpcException r when r.Trailers.GetValue(SiteStatusTrailer) == "storage" =>
                (r.StatusCode == StatusCode.Unavailable ? SiteStatus.Unavailable : SiteStatus.Error, $"the node's database failed{tries}: {WithoutSitePrefix(r.Status.Detail)}"),
            RpcException { StatusCode: StatusCode.Unavailable } r when r.IsConnectionRefused() =>
                (SiteStatus.Unavailable, $"connection refused by {Site.Address.Authority}{tries}: is the node running?"),
            RpcException { StatusCode: StatusCode.Unavailable } r => (SiteStatus.Unavailable, $"unreachable{tries}: {r.Problem()}"),
            RpcException { StatusCode: StatusCode.PermissionDenied } r when r.Trailers.GetValue(SiteStatusTrailer) == "not_approved" =>
                (SiteStatus.NotApproved, $"query type {queryType} not approved by the site admin"),
            RpcException { StatusCode: StatusCode.PermissionDenied } r => (SiteStatus.Error, $"the node refused the coordinator: {r.Status.Detail}"),
            RpcException { StatusCode: StatusCode.NotFound } r when r.Trailers.GetValue(SiteStatusTrailer) == "not_shared" =>
                (SiteStatus.NotShared, "the patient has not permitted care-sharing here, or this site has no record"),
            RpcException { StatusCode: StatusCode.InvalidArgument } r => (SiteStatus.Refused, WithoutSitePrefix(r.Status.Detail)),
            RpcException { StatusCode: StatusCode.Unimplemented } => (SiteStatus.Error, $"the node does not offer {queryType} (UNIMPLEMENTED): it may run an older version"),
            RpcException r => (SiteStatus.Error, $"{r.StatusCode}: {r.Status.Detail}"),
            _ => (SiteStatus.Error, $"{e.GetType().Name}: {e.Message}"),
        };
    }

    /// <summary>Nodes name themselves in their messages ("erlangen: ..."); the result names the site already.</summary>
    string WithoutSitePrefix(string detail) => detail.StartsWith(Site.Id + ": ", StringComparison.Ordinal) ? detail[(Site.Id.Length + 2)..] : detail;

    static bool MeansSiteDown(Exception e) => e is TimeoutRejectedException
        || e is RpcException { StatusCode: StatusCode.Unavailable or StatusCode.DeadlineExceeded };

    public static string Seconds(TimeSpan span) => $"{Math.Round(span.TotalSeconds, span.TotalSeconds < 10 ? 1 : 0).ToString(CultureInfo.InvariantCulture)} s";

    TimeSpan MaxDelay(int attempt) => options.RetryDelay * Math.Pow(2, attempt) * 1.5;

    TimeSpan Jittered(int attempt) => options.RetryDelay * Math.Pow(2, attempt) * (0.5 + Random.Shared.NextDouble());

    void Succeeded(TimeSpan latency)
    {
        Interlocked.Exchange(ref lastSuccessUnixMs, time.GetUtcNow().ToUnixTimeMilliseconds());
        Interlocked.Exchange(ref lastLatencyMicros, (long)latency.TotalMicroseconds);
        lastProblem = "";
    }

    void Failed(string message, bool circuitOpen)
    {
        // The breaker's own "circuit open" is not news about the site: keep the failure that opened it.
        if (!circuitOpen) lastProblem = message;
    }

    public void Dispose() => channel.Dispose();
}

/// <summary>One unary call of a site's node, made with the connection's typed clients and the pipeline's call options.</summary>
public delegate AsyncUnaryCall<TReply> SiteCall<TReply>(SiteConnection site, CallOptions options);

/// <summary>One site's answer to one call: the reply when Status is OK, else what happened (and the node's own status, if it answered one).</summary>
public sealed record SiteAnswer<TReply>(string Site, TReply? Reply, SiteStatus Status, string Message, long LatencyMicros, RpcException? Refusal)
    where TReply : class;
