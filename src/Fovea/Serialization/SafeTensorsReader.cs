using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;

namespace Fovea.Serialization;

/// <summary>
/// Parses and validates a whole safetensors file held in memory. Every problem becomes an
/// <see cref="InvalidDataException"/> naming the source, the problem and, where one applies, the tensor
/// and the file byte offset. Sizes are checked against the bytes actually present before anything is
/// allocated for them, so an absurd header cannot cause a huge allocation.
/// </summary>
internal static class SafeTensorsReader
{
    /// <summary>The reference implementation's limit; a larger header is taken as damage, not data.</summary>
    public const int MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    private sealed record RawEntry(string Name, DType DType, int[] Dims, ulong Begin, ulong End);

    public static SafeTensorsFile Parse(ReadOnlyMemory<byte> file, string source)
    {
        var bytes = file.Span;
        if (bytes.Length < 8)
            throw Fail(source, $"file is {bytes.Length} bytes, too short for the 8-byte header length (truncated?)");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeaderBytes)
            throw Fail(source, $"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit (damaged or not a safetensors file)", at: 0);
        long dataStart = 8 + (long)headerLength;
        if (dataStart > bytes.Length)
            throw Fail(source, $"header length {headerLength} runs past the end of the file ({bytes.Length} bytes; truncated?)", at: 0);

        var header = file.Slice(8, (int)headerLength);
        if (!Utf8.IsValid(header.Span)) throw Fail(source, "header is not valid UTF-8", at: 8);
        if (headerLength == 0 || header.Span[0] != (byte)'{') throw Fail(source, "header does not start with '{'", at: 8);

        var data = file[(int)dataStart..];
        var (metadata, raw) = ReadHeader(header, source);
        var entries = ValidateLayout(raw, data.Length, dataStart, source);
        return new SafeTensorsFile(source, metadata, entries, data, dataStart);
    }

    private static (IReadOnlyDictionary<string, string>, List<RawEntry>) ReadHeader(ReadOnlyMemory<byte> header, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            long? at = e.LineNumber == 0 && e.BytePositionInLine is long b ? 8 + b : null;
            throw Fail(source, $"header is not valid JSON ({e.Message})", at);
        }
        using (doc)
        {
            try
            {
                var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
                var entries = new List<RawEntry>();
                foreach (var (name, value) in Properties(doc.RootElement, "header", source, tensor: null))
                {
                    if (name == MetadataKey) ReadMetadata(value, metadata, source);
                    else entries.Add(ReadEntry(name, value, source));
                }
                return (metadata, entries);
            }
            catch (InvalidOperationException e)
            {
                // System.Text.Json refuses to turn escapes such as a lone "\uD800" into a .NET string.
                throw Fail(source, $"header holds a string that is not valid text ({e.Message})");
            }
        }
    }

    /// <summary>An object's properties in order, refusing duplicate keys (JSON allows them; a header must not).</summary>
    private static List<(string Name, JsonElement Value)> Properties(JsonElement obj, string what, string source, string? tensor)
    {
        if (obj.ValueKind != JsonValueKind.Object) throw Fail(source, $"{what} is a JSON {obj.ValueKind}, expected an object", tensor: tensor);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<(string, JsonElement)>();
        foreach (var p in obj.EnumerateObject())
        {
            if (!seen.Add(p.Name)) throw Fail(source, $"duplicate key '{Shorten(p.Name)}' in {what}", tensor: tensor);
            list.Add((p.Name, p.Value));
        }
        return list;
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        foreach (var (key, v) in Properties(value, MetadataKey, source, tensor: null))
        {
            if (v.ValueKind != JsonValueKind.String)
                throw Fail(source, $"{MetadataKey} value of '{Shorten(key)}' is a JSON {v.ValueKind}; metadata maps strings to strings");
            metadata[key] = v.GetString()!;
        }
    }

    private static RawEntry ReadEntry(string name, JsonElement value, string source)
    {
        var fields = Properties(value, "the header record", source, name).ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        JsonElement Field(string key) => fields.TryGetValue(key, out var f) ? f : throw Fail(source, $"header record has no \"{key}\"", tensor: name);

        var dtypeField = Field("dtype");
        string dtypeName = dtypeField.ValueKind == JsonValueKind.String ? dtypeField.GetString()! : $"<JSON {dtypeField.ValueKind}>";
        if (!DTypes.TryParseHeaderName(dtypeName, out var dtype))
            throw Fail(source, $"unknown dtype '{Shorten(dtypeName)}' (Fovea reads {DTypes.Supported})", tensor: name);

        var dims = ReadShape(Field("shape"), name, source);

        var offsets = Field("data_offsets");
        if (offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !offsets[0].TryGetUInt64(out ulong begin) || !offsets[1].TryGetUInt64(out ulong end))
            throw Fail(source, $"data_offsets {Shorten(offsets.GetRawText())} is not a pair [begin, end] of non-negative integers", tensor: name);
        return new RawEntry(name, dtype, dims, begin, end);
    }

    /// <summary>Dimensions must fit an Int32 and their product an array, as a Fovea tensor needs.</summary>
    private static int[] ReadShape(JsonElement shape, string name, string source)
    {
        if (shape.ValueKind != JsonValueKind.Array) throw Fail(source, $"shape is a JSON {shape.ValueKind}, expected an array", tensor: name);
        var dims = new int[shape.GetArrayLength()];
        int i = 0;
        foreach (var d in shape.EnumerateArray())
        {
            if (!d.TryGetInt32(out dims[i]) || dims[i] < 0)
                throw Fail(source, $"shape {Shorten(shape.GetRawText())}: dimension {i} is not an integer in [0, {int.MaxValue}]", tensor: name);
            i++;
        }
        if (ElementCount(dims) is not long n || n > Array.MaxLength)
            throw Fail(source, $"shape {Shorten(shape.GetRawText())} has more than {Array.MaxLength} elements", tensor: name);
        return dims;
    }

    /// <summary>The product of the dimensions, or null when it overflows an Int64.</summary>
    private static long? ElementCount(int[] dims)
    {
        if (dims.Contains(0)) return 0;
        long n = 1;
        foreach (int d in dims)
        {
            if (n > long.MaxValue / d) return null;
            n *= d;
        }
        return n;
    }

    /// <summary>
    /// The tensors must tile the data buffer exactly: sorted by offsets, each starts where the previous
    /// one ends, spans shape × dtype size bytes, and the last ends at the end of the file. A gap or an
    /// overlap would hide bytes or alias tensors, so both are damage.
    /// </summary>
    private static List<SafeTensorsEntry> ValidateLayout(List<RawEntry> raw, long dataLength, long dataStart, string source)
    {
        var sorted = raw.OrderBy(e => e.Begin).ThenBy(e => e.End).ThenBy(e => e.Name, StringComparer.Ordinal).ToList();
        var entries = new List<SafeTensorsEntry>(sorted.Count);
        ulong expected = 0;
        RawEntry? previous = null;
        foreach (var e in sorted)
        {
            string offsets = $"data_offsets [{e.Begin}, {e.End}]";
            long? at = e.Begin <= (ulong)dataLength ? dataStart + (long)e.Begin : null;
            if (e.End < e.Begin) throw Fail(source, $"{offsets} end before they begin", at, e.Name);
            if (e.Begin < expected)
                throw Fail(source, $"{offsets} overlap tensor '{Shorten(previous!.Name)}' [{previous.Begin}, {previous.End}]", at, e.Name);
            if (e.Begin > expected)
                throw Fail(source, $"{offsets} leave a gap of {e.Begin - expected} bytes after {(previous is null ? "the start of the data" : $"tensor '{Shorten(previous.Name)}' [{previous.Begin}, {previous.End}]")}; tensors must cover the data contiguously", dataStart + (long)expected, e.Name);
            if (e.End > (ulong)dataLength)
                throw Fail(source, $"{offsets} run past the end of the {dataLength}-byte data buffer (truncated?)", at, e.Name);
            var shape = new TensorShape(e.Dims);
            long needed = (long)shape.Length * e.DType.Size();
            if ((ulong)needed != e.End - e.Begin)
                throw Fail(source, $"{e.DType.HeaderName()} {Shorten(shape.ToString())} needs {needed} bytes but {offsets} span {e.End - e.Begin}", at, e.Name);
            entries.Add(new SafeTensorsEntry(e.Name, e.DType, shape, (long)e.Begin, (long)e.End));
            expected = e.End;
            previous = e;
        }
        if (expected != (ulong)dataLength)
            throw Fail(source, $"{dataLength - (long)expected} trailing bytes after the last tensor (the data buffer is {dataLength} bytes, tensors cover {expected})", dataStart + (long)expected);
        return entries;
    }

    private static InvalidDataException Fail(string source, string problem, long? at = null, string? tensor = null) =>
        new($"{source}: {(tensor is null ? "" : $"tensor '{Shorten(tensor)}': ")}{problem}{(at is null ? "" : $" (at byte {at})")}.");

    /// <summary>Header text quoted in a message, cut short: a damaged header can hold megabytes in one value.</summary>
    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";
}
