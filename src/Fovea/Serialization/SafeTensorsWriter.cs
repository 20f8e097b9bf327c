using System.Buffers;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Fovea.Serialization;

/// <summary>
/// Writes the safetensors layout to a stream: the header (padded with spaces to a multiple of 8, so the
/// data starts 8-aligned) and then each tensor's bytes, converted in small chunks so a large tensor in
/// a narrow dtype never needs a second full-size buffer.
/// </summary>
internal static class SafeTensorsWriter
{
    private const int ChunkElements = 16384;

    private sealed record Planned(string Name, Tensor Tensor, DType DType, long Begin, long End);

    public static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata, Func<string, DType>? dtypeOf)
    {
        var plan = Plan(tensors, dtypeOf);
        byte[] header = Header(plan, metadata);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        byte[] chunk = ArrayPool<byte>.Shared.Rent(ChunkElements * 8);
        try
        {
            foreach (var p in plan) WriteData(stream, p, chunk);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>
    /// The reference implementation's order: descending dtype (its enum order, which follows alignment,
    /// so wider elements come first and stay aligned), then ordinal name.
    /// </summary>
    private static List<Planned> Plan(IReadOnlyDictionary<string, Tensor> tensors, Func<string, DType>? dtypeOf)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var chosen = new List<(string Name, Tensor Tensor, DType DType)>(tensors.Count);
        foreach (var (name, tensor) in tensors)
        {
            if (name == "__metadata__") throw new ArgumentException("SafeTensors.Save: '__metadata__' is reserved for the metadata map and cannot name a tensor.", nameof(tensors));
            if (tensor is null) throw new ArgumentException($"SafeTensors.Save: tensor '{name}' is null.", nameof(tensors));
            var dtype = dtypeOf?.Invoke(name) ?? DType.F32;
            if (!Enum.IsDefined(dtype)) throw new ArgumentException($"SafeTensors.Save: dtype {(int)dtype} chosen for tensor '{name}' is not a safetensors dtype.", nameof(dtypeOf));
            chosen.Add((name, tensor, dtype));
        }
        chosen.Sort((a, b) => a.DType != b.DType ? b.DType.CompareTo(a.DType) : string.CompareOrdinal(a.Name, b.Name));
        var plan = new List<Planned>(chosen.Count);
        long offset = 0;
        foreach (var (name, tensor, dtype) in chosen)
        {
            long end = offset + (long)tensor.Length * dtype.Size();
            plan.Add(new Planned(name, tensor, dtype, offset, end));
            offset = end;
        }
        return plan;
    }

    private static byte[] Header(List<Planned> plan, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        // Relaxed escaping keeps non-ASCII names readable; the header is never embedded in HTML.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    if (key is null || value is null) throw new ArgumentException($"SafeTensors.Save: metadata key '{key}' has a null key or value.", nameof(metadata));
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            foreach (var p in plan)
            {
                json.WriteStartObject(p.Name);
                json.WriteString("dtype", p.DType.HeaderName());
                json.WriteStartArray("shape");
                foreach (int d in p.Tensor.Shape.AsSpan()) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(p.Begin);
                json.WriteNumberValue(p.End);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padding = (int)((8 - buffer.Length % 8) % 8);
        for (int i = 0; i < padding; i++) buffer.WriteByte((byte)' ');
        if (buffer.Length > SafeTensorsReader.MaxHeaderBytes)
            throw new ArgumentException($"SafeTensors.Save: the header would be {buffer.Length} bytes, over the format's {SafeTensorsReader.MaxHeaderBytes}-byte limit.");
        return buffer.ToArray();
    }

    private static void WriteData(Stream stream, Planned p, byte[] chunk)
    {
        var values = p.Tensor.Span;
        int size = p.DType.Size();
        for (int start = 0; start < values.Length; start += ChunkElements)
        {
            var part = values.Slice(start, Math.Min(ChunkElements, values.Length - start));
            var bytes = chunk.AsSpan(0, part.Length * size);
            int bad = DTypeConversion.FromFloat(p.DType, part, bytes);
            if (bad >= 0)
            {
                var (low, high) = DTypeConversion.IntegerRange(p.DType);
                throw new ArgumentException($"SafeTensors.Save: tensor '{p.Name}' is written as {p.DType.HeaderName()}, but element {start + bad} is {part[bad]}, not an integer in [{low}, {high}).");
            }
            stream.Write(bytes);
        }
    }
}
