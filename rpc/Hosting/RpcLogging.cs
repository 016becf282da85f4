using Microsoft.Extensions.Logging;

namespace Midia.Rpc.Hosting;

/// <summary>How our executables log: one line per event on stderr, framework chatter only when it matters.</summary>
public static class RpcLogging
{
    public static ILoggerFactory CreateConsoleFactory(LogLevel minimum = LogLevel.Information) => LoggerFactory.Create(logging =>
    {
        logging.SetMinimumLevel(minimum);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ssZ ";
            console.UseUtcTimestamp = true;
        });
    });
}
