using System.Buffers.Binary;
using System.Text;
using Fovea.Serialization;

namespace Fovea.Tests.Serialization;

/// <summary>Builds safetensors files byte by byte, so tests can write what no correct writer would.</summary>
internal static class SafeTensorsBytes
{
    /// <summary>Length field + header text + <paramref name="dataLength"/> data bytes (0, 1, 2, …).</summary>
    public static byte[] Raw(string header, int dataLength)
    {
        var text = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + text.Length + dataLength];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)text.Length);
        text.CopyTo(file, 8);
        for (int i = 0; i < dataLength; i++) file[8 + text.Length + i] = (byte)i;
        return file;
    }

    public static byte[] Serialize(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null, Func<string, DType>? dtypeOf = null)
    {
        using var stream = new MemoryStream();
        SafeTensors.Save(stream, tensors, metadata, dtypeOf);
        return stream.ToArray();
    }
}
