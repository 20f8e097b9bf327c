using Fovea.Nn;
using Fovea.Onnx;
using Fovea.Onnx.Import;

namespace Fovea.Tests.Onnx.Import;

/// <summary>
/// Seeded mutations (one to three of: byte and bit flips, truncations, inserted, deleted and repeated
/// ranges) of two real models and of a lone tensor as backend tests store them: only <see cref="InvalidDataException"/> or <see cref="NotSupportedException"/> may leave
/// <see cref="OnnxModel.Load(ReadOnlyMemory{byte}, string)"/>, and only those or an
/// <see cref="ArgumentException"/> (an input that no longer fits) a forward pass; no mutation may hang
/// or allocate far beyond the file's size.
/// </summary>
public class OnnxReaderFuzzTests
{
    private const int Mutations = 2000;

    /// <summary>Generous: lists of varints hold 8 bytes per input byte, doubled while growing, plus the model's own objects.</summary>
    private const long AllocationPerByte = 64, AllocationOverhead = 512 * 1024;

    [Fact]
    public void MutatedIdentityGraphsFailCleanly() => Fuzz(RawOnnx.IdentityChain(), seed: 1, bytes => RunOnce(OnnxModel.Load(bytes), [1, 2, 3]));

    [Fact]
    public void MutatedExportedFoveaModelsFailCleanly()
    {
        // Conv, Relu, MaxPool, Flatten, Gemm: a real exporter's output; ops this build lacks are a NotSupportedException.
        var model = new Sequential(new Conv2d(1, 2, 3, rng: new Rng(3)), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(2 * 3 * 3, 3, rng: new Rng(4)));
        Fuzz(OnnxExporter.ToBytes(model, 1, 8, 8), seed: 2, bytes => RunOnce(OnnxModel.Load(bytes), [1, 1, 8, 8]));
    }

    [Fact]
    public void MutatedTensorFilesFailCleanly()
    {
        var tensor = new ProtoWriter().Ints(1, [2, 3]).Int(2, RawOnnx.Float).String(8, "input_0").Bytes(9, new byte[24]).ToArray();
        Fuzz(tensor, seed: 3, bytes => OnnxModelReader.ReadTensor(bytes).Value.Floats?.Dispose());
    }

    private static void Fuzz(byte[] original, ulong seed, Action<byte[]> load)
    {
        OnnxModel.Load(RawOnnx.IdentityChain()); // warm up the op registry and the JIT before counting allocations
        var rng = new Rng(seed);
        string current = "";
        var run = Task.Run(() =>
        {
            for (int i = 0; i < Mutations; i++)
            {
                var bytes = original;
                var how = new List<string>();
                for (int m = 1 + rng.NextInt(3); m > 0; m--) bytes = Mutate(bytes, rng, how);
                current = $"mutation {i} ({string.Join(", then ", how)})";
                long before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    load(bytes);
                }
                catch (Exception e) when (e is InvalidDataException or NotSupportedException)
                {
                    Assert.False(string.IsNullOrWhiteSpace(e.Message), current);
                }
                catch (Exception e)
                {
                    Assert.Fail($"{current}: {e.GetType().Name} escaped: {e}");
                }
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(allocated < AllocationOverhead + AllocationPerByte * bytes.Length, $"{current}: {allocated} bytes allocated for a {bytes.Length}-byte file");
            }
        });
        Assert.True(run.Wait(TimeSpan.FromSeconds(60)), $"the reader hung at {current}");
    }

    private static void RunOnce(OnnxModel model, int[] inputShape)
    {
        using var noGrad = Autograd.NoGrad();
        using var x = Tensor.Ones(inputShape);
        try
        {
            model.Forward(x).Dispose();
        }
        catch (ArgumentException)
        {
            // the mutation changed the declared input or the graph's arity: Forward says so
        }
    }

    private static byte[] Mutate(byte[] original, Rng rng, List<string> how)
    {
        if (original.Length == 0) return original;
        var bytes = original.ToList();
        int at = rng.NextInt(bytes.Count);
        int length = 1 + rng.NextInt(Math.Min(16, bytes.Count - at));
        switch (rng.NextInt(6))
        {
            case 0:
                byte value = (byte)rng.NextInt(256);
                bytes[at] = value;
                how.Add($"byte {at} := {value}");
                break;
            case 1:
                int bit = rng.NextInt(8);
                bytes[at] ^= (byte)(1 << bit);
                how.Add($"bit {bit} of byte {at} flipped");
                break;
            case 2:
                bytes.RemoveRange(at, bytes.Count - at);
                how.Add($"truncated to {at} bytes");
                break;
            case 3:
                var inserted = Enumerable.Range(0, length).Select(_ => (byte)rng.NextInt(256)).ToArray();
                bytes.InsertRange(at, inserted);
                how.Add($"{length} random bytes inserted at {at}");
                break;
            case 4:
                bytes.RemoveRange(at, length);
                how.Add($"{length} bytes deleted at {at}");
                break;
            default:
                bytes.InsertRange(at, bytes.GetRange(at, length));
                how.Add($"{length} bytes at {at} repeated");
                break;
        }
        return [.. bytes];
    }
}
