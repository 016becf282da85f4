using System.CommandLine;

namespace Midia.Hosting;

/// <summary>Bad input from the person at the keyboard: printed as one line, exit code 1.</summary>
public class CommandException(string message) : Exception(message);

/// <summary>
/// How every Midia executable runs its command line: --help everywhere, and on failure exactly
/// one line on stderr and a non-zero exit — never a stack trace (MIDIA_DEBUG=1 shows it).
/// </summary>
public static class CommandLine
{
    public static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            Console.Error.WriteLine($"error: {parsed.Errors[0].Message} (see --help)");
            return 2;
        }
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var inner = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : e;
            Console.Error.WriteLine(inner switch
            {
                CommandException => $"error: {inner.Message}",
                // A setting that failed its options' validation: the validator's words name the flag.
                Microsoft.Extensions.Options.OptionsValidationException invalid => $"error: {string.Join("; ", invalid.Failures)}",
                _ => $"error: {inner.GetType().Name}: {inner.Message}",
            });
            if (Environment.GetEnvironmentVariable("MIDIA_DEBUG") == "1") Console.Error.WriteLine(inner);
            return 1;
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
    }
}
