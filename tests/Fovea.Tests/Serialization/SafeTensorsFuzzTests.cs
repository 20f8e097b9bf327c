using System.Buffers.Binary;
using Fovea.Serialization;

namespace Fovea.Tests.Serialization;

/// <summary>
/// Seeded random damage to valid files: the reader must either load the result (and then decode every
/// tensor) or throw InvalidDataException, never anything else, never hang.
/// </summary>
public class SafeTensorsFuzzTests
{
    private const int Mutations = 5000;

    private static List<byte[]> Seeds()
    {
        using var w = Tensor.FromArray([1, -2, 3.5f, 4, 5, 6], 2, 3);
        using var b = Tensor.FromArray([0.25f, -8], 2);
        using var count = Tensor.Scalar(42);
        using var flags = Tensor.FromArray([1, 0, 1], 3);
        using var empty = Tensor.Zeros(0, 4);
        var dtypes = new Dictionary<string, DType> { ["w"] = DType.F32, ["b"] = DType.BF16, ["h"] = DType.F16, ["n"] = DType.I64, ["f"] = DType.Bool, ["e"] = DType.F64 };
        return
        [
            SafeTensorsBytes.Serialize(new Dictionary<string, Tensor> { ["w"] = w, ["b"] = b, ["h"] = b, ["n"] = count, ["f"] = flags, ["e"] = empty },
                new Dictionary<string, string> { ["format"] = "pt", ["arch"] = "{\"type\":\"Linear\"}" }, n => dtypes[n]),
            SafeTensorsBytes.Serialize(new Dictionary<string, Tensor> { ["conv.weight"] = w }),
            SafeTensorsBytes.Serialize(new Dictionary<string, Tensor>()),
            File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "torch_written.safetensors")),
        ];
    }

    [Fact]
    public void RandomDamageLoadsOrThrowsInvalidDataException()
    {
        var seeds = Seeds();
        var rng = new Rng(2024);
        int loaded = 0, refused = 0;
        for (int i = 0; i < Mutations; i++)
        {
            var seed = seeds[rng.NextInt(seeds.Count)];
            var (bytes, how) = Mutate(seed, rng);
            try
            {
                var file = SafeTensors.Load(bytes);
                foreach (var e in file.Entries)
                {
                    file.ToTensor(e.Name).Dispose();
                    if (e.DType.IsInteger()) file.ReadInt64(e.Name);
                }
                loaded++;
            }
            catch (InvalidDataException e)
            {
                Assert.StartsWith("<bytes>: ", e.Message);
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {i} ({how}) threw {e.GetType().Name}: {e.Message}");
            }
        }
        // Both outcomes must occur, or the mutations are not exercising the reader.
        Assert.True(loaded > 100 && refused > 1000, $"loaded {loaded}, refused {refused}");
    }

    private static (byte[] Bytes, string How) Mutate(byte[] seed, Rng rng)
    {
        var b = (byte[])seed.Clone();
        int headerEnd = (int)Math.Min(b.Length, 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(b));
        int pos = rng.NextInt(b.Length);
        int inHeader = 8 + rng.NextInt(headerEnd - 8);
        switch (rng.NextInt(8))
        {
            case 0:
                b[pos] ^= (byte)(1 << rng.NextInt(8));
                return (b, $"flip a bit at {pos}");
            case 1:
                b[inHeader] = (byte)rng.NextInt(256);
                return (b, $"random header byte at {inHeader}");
            case 2:
                // Another digit keeps the JSON valid while moving an offset or a dimension.
                int digit = Array.FindIndex(b, inHeader, headerEnd - inHeader, c => c is >= (byte)'0' and <= (byte)'9');
                if (digit >= 0) b[digit] = (byte)('0' + rng.NextInt(10));
                return (b, $"change the digit at {digit}");
            case 3:
                int keep = rng.NextInt(b.Length);
                return (b[..keep], $"truncate to {keep}");
            case 4:
                ulong length = BinaryPrimitives.ReadUInt64LittleEndian(b);
                ulong changed = rng.NextInt(2) == 0 ? length + (ulong)(rng.NextInt(33) - 16) : ((ulong)rng.NextUInt() << 32) | rng.NextUInt();
                BinaryPrimitives.WriteUInt64LittleEndian(b, changed);
                return (b, $"header length {changed}");
            case 5:
                int count = 1 + rng.NextInt(9);
                var inserted = new byte[count];
                for (int k = 0; k < count; k++) inserted[k] = (byte)rng.NextInt(256);
                return ([.. b[..pos], .. inserted, .. b[pos..]], $"insert {count} bytes at {pos}");
            case 6:
                int cut = 1 + rng.NextInt(Math.Min(9, b.Length - pos));
                return ([.. b[..pos], .. b[(pos + cut)..]], $"delete {cut} bytes at {pos}");
            default:
                // Several header bytes at once, to reach deeper structural damage.
                const string jsonBytes = "{}[]\":,0123456789-e ";
                for (int k = 0; k < 4; k++) b[8 + rng.NextInt(headerEnd - 8)] = (byte)jsonBytes[rng.NextInt(jsonBytes.Length)];
                return (b, "scramble header punctuation");
        }
    }
}
