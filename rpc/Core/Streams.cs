namespace Midia.Rpc.Core;

/// <summary>Messages arriving on a stream, one at a time (same shape as Grpc.Core.IAsyncStreamReader).</summary>
public interface IAsyncStreamReader<out T>
{
    T Current { get; }
    Task<bool> MoveNext(CancellationToken cancellationToken);
}

public interface IAsyncStreamWriter<in T>
{
    WriteOptions? WriteOptions { get; set; }
    Task WriteAsync(T message);
}

public interface IServerStreamWriter<in T> : IAsyncStreamWriter<T>;

public interface IClientStreamWriter<in T> : IAsyncStreamWriter<T>
{
    /// <summary>No more requests: half-closes the call.</summary>
    Task CompleteAsync();
}

[Flags]
public enum WriteFlags { BufferHint = 1, NoCompress = 2 }

/// <summary>Per-message options: NoCompress sends a message uncompressed although the call compresses.</summary>
public sealed record WriteOptions(WriteFlags Flags = 0)
{
    public static readonly WriteOptions Default = new();
}

public static class AsyncStreamReaderExtensions
{
    public static Task<bool> MoveNext<T>(this IAsyncStreamReader<T> reader) => reader.MoveNext(CancellationToken.None);

    public static async IAsyncEnumerable<T> ReadAllAsync<T>(this IAsyncStreamReader<T> reader,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await reader.MoveNext(cancellationToken).ConfigureAwait(false)) yield return reader.Current;
    }
}
