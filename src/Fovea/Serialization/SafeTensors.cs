namespace Fovea.Serialization;

/// <summary>
/// Reads and writes the safetensors format (huggingface/safetensors): an 8-byte little-endian header
/// length, a JSON header mapping each tensor name to its dtype, shape and data offsets (plus an optional
/// "__metadata__" string map), then the tensors' bytes, little-endian and row-major. Files are
/// interchangeable with PyTorch's <c>safetensors.torch.save_file</c>/<c>load_file</c>.
/// </summary>
public static class SafeTensors
{
    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/> without ever leaving a half-written
    /// file: the bytes go to a temporary file in the same folder, are flushed to disk, and the temporary
    /// file is then renamed over <paramref name="path"/>. If anything fails, the previous file is untouched
    /// and the temporary file is removed. <paramref name="dtypeOf"/> picks each tensor's stored dtype
    /// (default F32): floating dtypes round to nearest even; integer dtypes (e.g. I64 for BatchNorm's
    /// num_batches_tracked, which PyTorch expects as an I64 scalar) need exact integers.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null, Func<string, DType>? dtypeOf = null)
    {
        string target = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(target)!;
        string temp = Path.Combine(folder, $".{Path.GetFileName(target)}.{Path.GetRandomFileName()}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                SafeTensorsWriter.Write(file, tensors, metadata, dtypeOf);
                file.Flush(flushToDisk: true); // the rename must never expose bytes that are still only in the OS cache
            }
            File.Move(temp, target, overwrite: true);
        }
        catch
        {
            if (File.Exists(temp)) File.Delete(temp);
            throw;
        }
    }

    /// <summary>Writes the file's bytes to <paramref name="stream"/> (not atomic: the stream gets whatever was written before a failure).</summary>
    public static void Save(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null, Func<string, DType>? dtypeOf = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        SafeTensorsWriter.Write(stream, tensors, metadata, dtypeOf);
    }

    /// <summary>Reads and validates a whole file. A damaged file throws <see cref="InvalidDataException"/> naming the path.</summary>
    public static SafeTensorsFile Load(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        return Load(file, path);
    }

    /// <summary>
    /// Reads the rest of <paramref name="stream"/> and validates it. <paramref name="source"/> names the
    /// stream in error messages.
    /// </summary>
    public static SafeTensorsFile Load(Stream stream, string source = "<stream>")
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] bytes;
        if (stream.CanSeek)
        {
            long remaining = stream.Length - stream.Position;
            if (remaining > Array.MaxLength)
                throw new InvalidDataException($"{source}: {remaining} bytes is more than Fovea reads into memory ({Array.MaxLength} bytes).");
            bytes = new byte[remaining];
            try
            {
                stream.ReadExactly(bytes);
            }
            catch (EndOfStreamException)
            {
                throw new InvalidDataException($"{source}: the file ended early while being read (was it truncated meanwhile?).");
            }
        }
        else
        {
            // Unknown length: grow with the bytes that really arrive rather than trusting a header.
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            bytes = copy.ToArray();
        }
        return SafeTensorsReader.Parse(bytes, source);
    }

    /// <summary>
    /// Validates a whole file already in memory. The bytes are not copied: tensors are decoded from them
    /// on demand, so do not change them while the result is in use.
    /// </summary>
    public static SafeTensorsFile Load(ReadOnlyMemory<byte> bytes, string source = "<bytes>") => SafeTensorsReader.Parse(bytes, source);
}
