using System.Collections;
using System.Text;

namespace Midia.Rpc.Core;

/// <summary>
/// Custom headers or trailers of a call, in order, keys lowercase. Keys ending in "-bin" carry
/// bytes (base64 on the wire); all other values must be printable ASCII, because HTTP/2 header
/// values are not guaranteed to carry anything else.
/// </summary>
public sealed class Metadata : IList<Metadata.Entry>
{
    public const string BinaryHeaderSuffix = "-bin";
    readonly List<Entry> entries = [];

    public void Add(string key, string value) => entries.Add(new Entry(key, value));
    public void Add(string key, byte[] valueBytes) => entries.Add(new Entry(key, valueBytes));

    /// <summary>The last entry with this key, or null.</summary>
    public Entry? Get(string key)
    {
        var normalized = key.ToLowerInvariant();
        for (var i = entries.Count - 1; i >= 0; i--)
            if (entries[i].Key == normalized) return entries[i];
        return null;
    }

    public string? GetValue(string key) => Get(key)?.Value;
    public byte[]? GetValueBytes(string key) => Get(key)?.ValueBytes;
    public IEnumerable<Entry> GetAll(string key) => entries.Where(e => e.Key == key.ToLowerInvariant());

    public Entry this[int index] { get => entries[index]; set => entries[index] = value; }
    public int Count => entries.Count;
    public bool IsReadOnly => false;
    public void Add(Entry item) => entries.Add(item);
    public void Clear() => entries.Clear();
    public bool Contains(Entry item) => entries.Contains(item);
    public void CopyTo(Entry[] array, int arrayIndex) => entries.CopyTo(array, arrayIndex);
    public IEnumerator<Entry> GetEnumerator() => entries.GetEnumerator();
    public int IndexOf(Entry item) => entries.IndexOf(item);
    public void Insert(int index, Entry item) => entries.Insert(index, item);
    public bool Remove(Entry item) => entries.Remove(item);
    public void RemoveAt(int index) => entries.RemoveAt(index);
    IEnumerator IEnumerable.GetEnumerator() => entries.GetEnumerator();

    public sealed class Entry
    {
        readonly string? value;
        readonly byte[]? valueBytes;

        public Entry(string key, string value)
        {
            Key = NormalizeKey(key);
            if (IsBinary) throw new ArgumentException($"metadata key '{key}' ends in -bin, so its value must be bytes");
            foreach (var c in value)
                if (c < 0x20 || c > 0x7E) throw new ArgumentException($"metadata value for '{key}' must be printable ASCII");
            this.value = value;
        }

        public Entry(string key, byte[] valueBytes)
        {
            Key = NormalizeKey(key);
            if (!IsBinary) throw new ArgumentException($"metadata key '{key}' carries bytes, so it must end in -bin");
            this.valueBytes = valueBytes;
        }

        public string Key { get; }
        public bool IsBinary => Key.EndsWith(BinaryHeaderSuffix, StringComparison.Ordinal);
        public string Value => value ?? throw new InvalidOperationException($"metadata '{Key}' is binary; use ValueBytes");
        public byte[] ValueBytes => valueBytes ?? Encoding.ASCII.GetBytes(value!);

        public override string ToString() => IsBinary ? $"{Key}: {Convert.ToBase64String(valueBytes!)}" : $"{Key}: {value}";

        static string NormalizeKey(string key)
        {
            ArgumentException.ThrowIfNullOrEmpty(key);
            var normalized = key.ToLowerInvariant();
            foreach (var c in normalized)
                if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_' or '.'))
                    throw new ArgumentException($"metadata key '{key}' may only contain a-z 0-9 - _ .");
            if (normalized.StartsWith("grpc-", StringComparison.Ordinal) && normalized != "grpc-internal-encoding-request")
                throw new ArgumentException($"metadata key '{key}' is reserved for gRPC");
            return normalized;
        }
    }
}
