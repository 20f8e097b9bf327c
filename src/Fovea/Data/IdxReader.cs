using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;

namespace Fovea.Data;

/// <summary>
/// Reads IDX files of unsigned bytes (the MNIST format), raw or gzip-compressed; compression is
/// recognised by the gzip magic bytes, not by the file name. Every problem becomes an
/// <see cref="InvalidDataException"/> naming the file and the byte offset (of the decompressed data
/// for gzip files). Sizes in the header are checked against the bytes actually present before they
/// are trusted, so a damaged header cannot cause a huge allocation.
/// </summary>
public static class IdxReader
{
    private const byte UByte = 0x08;

    /// <summary>Reads a ubyte IDX file that must have <paramref name="expectedDims"/> dimensions.</summary>
    /// <exception cref="InvalidDataException">The file is damaged, truncated or not the expected kind of IDX file.</exception>
    public static IdxArray Read(string path, int expectedDims)
    {
        if (expectedDims is < 1 or > 255) throw new ArgumentOutOfRangeException(nameof(expectedDims), $"IDX files have 1 to 255 dimensions. Received: {expectedDims}");
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        bool gzip = IsGzip(file);
        using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        var input = new IdxInput(stream, path, gzip);
        var dims = ReadHeader(input, expectedDims);
        return new IdxArray(dims, ReadData(input, dims, gzip ? null : file.Length));
    }

    private static bool IsGzip(FileStream file)
    {
        Span<byte> start = stackalloc byte[2];
        int got = file.ReadAtLeast(start, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return got == 2 && start[0] == 0x1f && start[1] == 0x8b;
    }

    private static int[] ReadHeader(IdxInput input, int expectedDims)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = input.Fill(magic);
        if (got < 4) throw input.Fail($"truncated: the 4-byte magic number is cut short, file ends at {input.At(got)}");
        uint found = BinaryPrimitives.ReadUInt32BigEndian(magic);
        uint expected = (uint)(UByte << 8 | expectedDims);
        if (found != expected)
        {
            string holds = magic[0] == 0 && magic[1] == 0 ? $"; the file holds {TypeName(magic[2])} with {magic[3]} dims" : "; not an IDX file";
            throw input.Fail($"wrong magic 0x{found:X8} at {input.At(0)}, expected 0x{expected:X8} ({Describe(expectedDims)}){holds}");
        }

        Span<byte> sizes = stackalloc byte[4 * expectedDims];
        got = input.Fill(sizes);
        if (got < sizes.Length) throw input.Fail($"truncated: the header needs {4 + sizes.Length} bytes, file ends at {input.At(4 + got)}");
        var dims = new int[expectedDims];
        for (int d = 0; d < expectedDims; d++)
        {
            uint size = BinaryPrimitives.ReadUInt32BigEndian(sizes[(4 * d)..]);
            if (size > int.MaxValue) throw input.Fail($"dimension {d} has size {size} at {input.At(4 + 4 * d)}, more than any array can hold");
            dims[d] = (int)size;
        }
        return dims;
    }

    private static byte[] ReadData(IdxInput input, int[] dims, long? fileLength)
    {
        long headerLength = 4 + 4L * dims.Length;
        // Up to 255 sizes below 2^31 each: only a BigInteger holds the product of a damaged header.
        BigInteger expectedLength = headerLength + dims.Aggregate(BigInteger.One, (product, d) => product * d);
        string shape = $"dims [{string.Join(", ", dims)}]";

        if (fileLength is long length)
        {
            if (length < expectedLength) throw input.Fail($"truncated: expected {expectedLength} bytes for {shape}, file ends at {input.At(length)}");
            if (length > expectedLength) throw input.Fail($"{length - expectedLength} unexpected bytes after the data, which ends at {input.At((long)expectedLength)}");
        }
        if (expectedLength - headerLength > Array.MaxLength) throw input.Fail($"{shape} at {input.At(4)} describe more bytes than one array can hold (damaged header?)");
        int dataLength = (int)(expectedLength - headerLength);

        // Grow with the bytes that actually arrive: a gzip stream's length is unknown until it ends,
        // so a header promising gigabytes over a short stream costs at most twice what is there.
        var data = new byte[Math.Min(dataLength, 1 << 20)];
        int filled = 0;
        while (true)
        {
            filled += input.Fill(data.AsSpan(filled));
            if (filled < data.Length || data.Length == dataLength) break;
            Array.Resize(ref data, (int)Math.Min(dataLength, 2L * data.Length));
        }
        if (filled < dataLength)
            throw input.Fail($"truncated: expected {expectedLength} bytes for {shape}, file ends at {input.At(headerLength + filled)}");
        Span<byte> extra = stackalloc byte[1];
        if (input.Fill(extra) > 0) throw input.Fail($"unexpected bytes after the data, which ends at {input.At((long)expectedLength)}");
        return data;
    }

    private static string Describe(int dims) => dims switch
    {
        1 => "ubyte labels, 1 dim",
        3 => "ubyte images, 3 dims",
        _ => $"ubyte, {dims} dims",
    };

    private static string TypeName(byte type) => type switch
    {
        0x08 => "ubyte",
        0x09 => "sbyte",
        0x0B => "int16",
        0x0C => "int32",
        0x0D => "float32",
        0x0E => "float64",
        _ => $"unknown element type 0x{type:X2}",
    };

    /// <summary>A stream that counts what it has read and turns gzip damage into a message naming the file and offset.</summary>
    private sealed class IdxInput(Stream stream, string path, bool gzip)
    {
        private long _position;

        /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; returns the bytes read.</summary>
        public int Fill(Span<byte> buffer)
        {
            int got;
            try
            {
                got = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            }
            catch (InvalidDataException e)
            {
                throw Fail($"damaged gzip data ({e.Message}) after {At(_position)}");
            }
            _position += got;
            return got;
        }

        public string At(long offset) => gzip ? $"byte {offset} (decompressed)" : $"byte {offset}";

        public InvalidDataException Fail(string problem) => new($"{path}: {problem}.");
    }
}
