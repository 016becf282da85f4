using System.CommandLine;
using Grpc.Core;
using Midia.Hosting;
using Midia.Protos.Coordinator.V1;
using Midia.Trust;

namespace Midia.Cli.Research;

/// <summary>
/// The one place that says how `midia` reaches the coordinator: --coordinator URL --cert PEM
/// --key PEM --ca PEM, each falling back to MIDIA_COORDINATOR, MIDIA_CERT, MIDIA_KEY, MIDIA_CA —
/// and the one place that turns a failed call into the single error line the user sees.
/// </summary>
public sealed class CoordinatorConnection
{
    readonly Option<string?> coordinator = new("--coordinator") { Description = "The coordinator's address, https://HOST:PORT (default: MIDIA_COORDINATOR)" };
    readonly Option<string?> cert = new("--cert") { Description = "Your certificate, PEM (default: MIDIA_CERT)" };
    readonly Option<string?> key = new("--key") { Description = "Your private key, PEM (default: MIDIA_KEY)" };
    readonly Option<string?> ca = new("--ca") { Description = "The network CA, PEM (default: MIDIA_CA)" };

    /// <summary>Adds the connection flags to a command.</summary>
    public CoordinatorConnection AddTo(Command command)
    {
        command.Options.Add(coordinator);
        command.Options.Add(cert);
        command.Options.Add(key);
        command.Options.Add(ca);
        return this;
    }

    public Session Open(ParseResult parse)
    {
        // Tables piped into a file or another program: no colours, no cursor movement.
        if (Console.IsOutputRedirected)
            Spectre.Console.AnsiConsole.Console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
            {
                Ansi = Spectre.Console.AnsiSupport.No,
                ColorSystem = Spectre.Console.ColorSystemSupport.NoColors,
                Interactive = Spectre.Console.InteractionSupport.No,
            });
        if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 160;
        string Resolve(Option<string?> option, string variable) =>
            parse.GetValue(option) is { Length: > 0 } value ? value
            : Environment.GetEnvironmentVariable(variable) is { Length: > 0 } env ? env
            : throw new CommandException($"no {option.Name} given and {variable} is not set");
        var address = Resolve(coordinator, "MIDIA_COORDINATOR");
        var tls = TlsMaterial.Load(Resolve(cert, "MIDIA_CERT"), Resolve(key, "MIDIA_KEY"), Resolve(ca, "MIDIA_CA"));
        NetworkChannel channel;
        try { channel = NetworkChannel.Open(address, tls, new ServerPin("coordinator")); }
        catch (ArgumentException e)
        {
            tls.Dispose();
            throw new CommandException($"--coordinator: {e.Message}");
        }
        return new Session(channel, tls);
    }

    /// <summary>An open connection to the coordinator for one command.</summary>
    public sealed class Session(NetworkChannel channel, TlsMaterial tls) : IDisposable
    {
        public string Address => channel.Address.ToString().TrimEnd('/');

        public Protos.Coordinator.V1.Research.ResearchClient Research { get; } = new(channel.Invoker);
        public Protos.Coordinator.V1.Care.CareClient Care { get; } = new(channel.Invoker);
        public Protos.Coordinator.V1.Projects.ProjectsClient Projects { get; } = new(channel.Invoker);

        /// <summary>
        /// One unary call to the coordinator (with the session's deadline). <paramref name="explain"/>
        /// may turn a refusal into the line the user should read; null falls back to the general wording.
        /// </summary>
        public async Task<TReply> CallAsync<TReply>(Func<Session, CallOptions, AsyncUnaryCall<TReply>> call,
            CancellationToken cancellationToken, Func<RpcException, string?>? explain = null)
        {
            try
            {
                using var pending = call(this, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellationToken));
                return await pending.ResponseAsync;
            }
            catch (RpcException e) { throw explain?.Invoke(e) is { } line ? new CommandException(line) : Failure(e); }
        }

        /// <summary>A channel to a site's node with the same certificate and CA; it must present that site's node certificate.</summary>
        public NetworkChannel OpenNode(string address, string site)
        {
            try { return NetworkChannel.Open(address, tls, new ServerPin("node", site)); }
            catch (ArgumentException e) { throw new CommandException(e.Message); }
        }

        public async IAsyncEnumerable<TReply> StreamAsync<TReply>(Func<Session, CallOptions, AsyncServerStreamingCall<TReply>> start,
            [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            using var call = start(this, new CallOptions(cancellationToken: cancellationToken));
            while (true)
            {
                try
                {
                    if (!await call.ResponseStream.MoveNext(cancellationToken)) yield break;
                }
                catch (RpcException e) { throw Failure(e); }
                yield return call.ResponseStream.Current;
            }
        }

        /// <summary>What went wrong, in one line that names the coordinator when the problem is reaching it.</summary>
        CommandException Failure(RpcException e) => new(e.StatusCode switch
        {
            StatusCode.Unavailable when e.Status.Detail.Contains("Connection refused", StringComparison.OrdinalIgnoreCase) =>
                $"coordinator {Address} unavailable: connection refused (is midia-coordinator running?)",
            StatusCode.Unavailable => $"coordinator {Address} unavailable: {e.Problem()}",
            StatusCode.PermissionDenied => $"coordinator {Address} refused: {e.Status.Detail}",
            StatusCode.Unauthenticated => $"coordinator {Address} does not accept your certificate: {e.Status.Detail}",
            StatusCode.DeadlineExceeded => $"coordinator {Address} did not answer in time",
            StatusCode.ResourceExhausted or StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.AlreadyExists or StatusCode.NotFound => e.Status.Detail,
            _ => $"coordinator {Address}: {e.StatusCode}: {e.Status.Detail}",
        });

        public void Dispose()
        {
            channel.Dispose();
            tls.Dispose();
        }
    }
}
