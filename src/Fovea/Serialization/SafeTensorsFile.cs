namespace Fovea.Serialization;

/// <summary>
/// A validated safetensors file held in memory: header records, metadata and the raw data buffer.
/// Every entry was checked when the file was loaded, so reading a tensor cannot fail on a bad offset.
/// </summary>
public sealed class SafeTensorsFile
{
    private readonly ReadOnlyMemory<byte> _data;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorsEntry> _byName;

    internal SafeTensorsFile(string source, IReadOnlyDictionary<string, string> metadata, IReadOnlyList<SafeTensorsEntry> entries, ReadOnlyMemory<byte> data, long dataStart)
    {
        Source = source;
        Metadata = metadata;
        Entries = entries;
        Names = entries.Select(e => e.Name).ToArray();
        _byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        _data = data;
        _dataStart = dataStart;
    }

    /// <summary>The file path, or "&lt;stream&gt;"/"&lt;bytes&gt;" (or the name given when loading), as used in error messages.</summary>
    public string Source { get; }

    /// <summary>The "__metadata__" map; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensors in the order of their data in the file.</summary>
    public IReadOnlyList<SafeTensorsEntry> Entries { get; }

    /// <summary>Tensor names in the order of their data in the file.</summary>
    public IReadOnlyList<string> Names { get; }

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The header record of tensor <paramref name="name"/>.</summary>
    public SafeTensorsEntry this[string name] =>
        _byName.TryGetValue(name, out var entry) ? entry : throw new KeyNotFoundException($"{Source}: no tensor named '{name}'. It holds: {string.Join(", ", Names)}");

    /// <summary>The tensor's raw little-endian bytes.</summary>
    public ReadOnlyMemory<byte> ReadBytes(string name)
    {
        var e = this[name];
        return _data.Slice((int)e.Begin, (int)e.ByteLength);
    }

    /// <summary>The tensor converted to float32 (any dtype; integers beyond 2^24 round to the nearest float).</summary>
    public Tensor ToTensor(string name)
    {
        var e = this[name];
        var t = Tensor.Empty(e.Shape);
        DTypeConversion.ToFloat(e.DType, ReadBytes(name).Span, t.Span);
        return t;
    }

    /// <summary>Every tensor converted to float32, by name.</summary>
    public Dictionary<string, Tensor> ToTensors() => Names.ToDictionary(n => n, ToTensor, StringComparer.Ordinal);

    /// <summary>
    /// The exact values of an integer or BOOL tensor (counters such as BatchNorm's num_batches_tracked,
    /// class indices), in row-major order.
    /// </summary>
    public long[] ReadInt64(string name)
    {
        var e = this[name];
        if (!e.DType.IsInteger()) throw new InvalidOperationException($"{Source}: tensor '{name}' is {e.DType.HeaderName()}; ReadInt64 reads integer and BOOL tensors (use ToTensor).");
        var values = new long[e.Shape.Length];
        int bad = DTypeConversion.ToInt64(e.DType, ReadBytes(name).Span, values);
        if (bad >= 0)
            throw new InvalidDataException($"{Source}: tensor '{name}': U64 element {bad} (at byte {_dataStart + e.Begin + 8L * bad}) exceeds Int64.MaxValue.");
        return values;
    }
}
