using System.Buffers.Binary;
using System.IO.Compression;

namespace Fovea.Tests.Data;

/// <summary>Builds IDX and CIFAR files byte by byte, so tests can write what no correct writer would.</summary>
internal static class IdxBytes
{
    /// <summary>A ubyte IDX file: magic 0x0000 08 ndims, big-endian sizes, then <paramref name="data"/>.</summary>
    public static byte[] Idx(int[] dims, byte[] data, byte type = 0x08)
    {
        var file = new byte[4 + 4 * dims.Length + data.Length];
        file[2] = type;
        file[3] = (byte)dims.Length;
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(4 + 4 * d), (uint)dims[d]);
        data.CopyTo(file, 4 + 4 * dims.Length);
        return file;
    }

    public static byte[] Gzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest)) gzip.Write(raw);
        return output.ToArray();
    }

    /// <summary>Bytes 0, 1, 2, … wrapping at 256.</summary>
    public static byte[] Counting(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)i)];

    /// <summary>Writes an MNIST-style split: <paramref name="labels"/>.Length images of h×w where image i is filled with i.</summary>
    public static void WriteMnist(string folder, bool train, int[] labels, int height = 3, int width = 2, bool gzip = false)
    {
        string split = train ? "train" : "t10k", suffix = gzip ? ".gz" : "";
        var pixels = labels.SelectMany((_, i) => Enumerable.Repeat((byte)i, height * width)).ToArray();
        var images = Idx([labels.Length, height, width], pixels);
        var labelFile = Idx([labels.Length], [.. labels.Select(l => (byte)l)]);
        File.WriteAllBytes(Path.Combine(folder, $"{split}-images-idx3-ubyte{suffix}"), gzip ? Gzip(images) : images);
        File.WriteAllBytes(Path.Combine(folder, $"{split}-labels-idx1-ubyte{suffix}"), gzip ? Gzip(labelFile) : labelFile);
    }

    /// <summary>CIFAR-10 records: label, then 3072 pixels all equal to <paramref name="fill"/>(record).</summary>
    public static byte[] CifarRecords(int[] labels, Func<int, byte> fill)
    {
        var file = new byte[labels.Length * 3073];
        for (int r = 0; r < labels.Length; r++)
        {
            file[r * 3073] = (byte)labels[r];
            file.AsSpan(r * 3073 + 1, 3072).Fill(fill(r));
        }
        return file;
    }
}
