using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Midia.Coordinator.Sites;
using Midia.Protos.Coordinator.V1;
using Midia.Rpc.Client;
using Midia.Rpc.Core;
using Midia.Rpc.Tls;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Midia.Coordinator.FanOut;

/// <summary>
/// The coordinator's line to one site: one long-lived channel (HTTP/2 over mutual TLS, kept warm
/// and reused by every call) and one Polly pipeline — circuit breaker, deadline, retry on
/// UNAVAILABLE — plus what the coordinator last saw of the site. Every call ends in a
/// <see cref="SiteResult"/> with a status and a message a person can act on; none throws.
/// </summary>
public sealed class SiteConnection : IDisposable
{
    public const string SiteStatusTrailer = "midia-site-status";
    static readonly ResiliencePropertyKey<DateTime> DeadlineKey = new("midia.deadline");

    readonly RpcChannel channel;
    readonly CallInvoker invoker;
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
        channel = RpcChannel.ForAddress(site.Address, new RpcChannelOptions { Tls = tls, ConnectTimeout = options.Deadline + TimeSpan.FromSeconds(1) });
        invoker = channel.CreateCallInvoker();
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

    /// <summary>Opens the HTTP/2 connection (TLS handshake included) before the first query needs it.</summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        try
        {
            var check = Method<Grpc.Health.V1.HealthCheckRequest, Grpc.Health.V1.HealthCheckResponse>.From(Rpc.Health.HealthService.Descriptor, "Check");
            using var call = invoker.AsyncUnaryCall(check, new CallOptions(Deadline: time.GetUtcNow().UtcDateTime + options.Deadline, CancellationToken: cancellationToken), new Grpc.Health.V1.HealthCheckRequest());
            await call.ResponseAsync.ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException)
        {
            // A site that is down now is found out by the first query, with the breaker's bookkeeping.
        }
    }

    /// <summary>One call through the pipeline; the result always names the site and says what happened.</summary>
    public async Task<SiteResult> AskAsync<TRequest, TReply>(Method<TRequest, TReply> method, TRequest request, Action<TReply, SiteResult> fill, CancellationToken cancellationToken)
        where TRequest : class, IMessage<TRequest> where TReply : class, IMessage<TReply>
    {
        var answer = await CallAsync(method, request, cancellationToken).ConfigureAwait(false);
        var result = new SiteResult { Site = Site.Id, Status = answer.Status, Message = answer.Message, LatencyMicros = answer.LatencyMicros };
        if (answer.Reply is { } reply) fill(reply, result);
        return result;
    }

    /// <summary>
    /// Any unary RPC of the site through the pipeline (breaker, deadline, retry on UNAVAILABLE):
    /// the reply, or the status and message a person can act on. Throws only when the caller cancels.
    /// </summary>
    public async Task<SiteAnswer<TReply>> CallAsync<TRequest, TReply>(Method<TRequest, TReply> method, TRequest request, CancellationToken cancellationToken)
        where TRequest : class, IMessage<TRequest> where TReply : class, IMessage<TReply>
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
                using var call = invoker.AsyncUnaryCall(method, new CallOptions(Deadline: deadline, CancellationToken: ctx.CancellationToken), request);
                try { return await call.ResponseAsync.ConfigureAwait(false); }
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
            var (status, message) = Describe(e, attempts, method.Name);
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
    (SiteStatus, string) Describe(Exception e, int attempts, string rpc)
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
            RpcException { StatusCode: StatusCode.Unavailable } r when r.Status.Detail.Contains("Connection refused", StringComparison.OrdinalIgnoreCase) =>
                (SiteStatus.Unavailable, $"connection refused by {Site.Address.Authority}{tries}: is the node running?"),
            RpcException { StatusCode: StatusCode.Unavailable } r => (SiteStatus.Unavailable, $"unreachable{tries}: {r.Status.Detail}"),
            RpcException { StatusCode: StatusCode.PermissionDenied } r when r.Trailers.GetValue(SiteStatusTrailer) == "not_approved" =>
                (SiteStatus.NotApproved, $"query type {QueryType(rpc)} not approved by the site admin"),
            RpcException { StatusCode: StatusCode.PermissionDenied } r => (SiteStatus.Error, $"the node refused the coordinator: {r.Status.Detail}"),
            RpcException { StatusCode: StatusCode.NotFound } r when r.Trailers.GetValue(SiteStatusTrailer) == "not_shared" =>
                (SiteStatus.NotShared, "the patient has not permitted care-sharing here, or this site has no record"),
            RpcException { StatusCode: StatusCode.InvalidArgument } r => (SiteStatus.Refused, WithoutSitePrefix(r.Status.Detail)),
            RpcException { StatusCode: StatusCode.Unimplemented } => (SiteStatus.Error, $"the node does not offer {QueryType(rpc)} (UNIMPLEMENTED): it may run an older version"),
            RpcException r => (SiteStatus.Error, $"{r.StatusCode}: {r.Status.Detail}"),
            _ => (SiteStatus.Error, $"{e.GetType().Name}: {e.Message}"),
        };
    }

    /// <summary>Nodes name themselves in their messages ("erlangen: ..."); the result names the site already.</summary>
    string WithoutSitePrefix(string detail) => detail.StartsWith(Site.Id + ": ", StringComparison.Ordinal) ? detail[(Site.Id.Length + 2)..] : detail;

    static bool MeansSiteDown(Exception e) => e is TimeoutRejectedException
        || e is RpcException { StatusCode: StatusCode.Unavailable or StatusCode.DeadlineExceeded };

    static string QueryType(string rpc) => rpc switch
    {
        "StratifiedCount" => "stratified-count",
        "PatientSummary" or "ResolvePatient" or "OpenTicket" => "patient-summary",
        "PatientReport" => "patient-report",
        _ => "cohort-count",
    };

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

/// <summary>One site's answer to one call: the reply when Status is OK, else what happened (and the node's own status, if it answered one).</summary>
public sealed record SiteAnswer<TReply>(string Site, TReply? Reply, SiteStatus Status, string Message, long LatencyMicros, RpcException? Refusal)
    where TReply : class;
