using Fovea.Bench.Peers;
using Fovea.Nn;
using static TorchSharp.torch;
using TorchTensor = TorchSharp.torch.Tensor;

namespace Fovea.Bench.Workloads;

/// <summary>A zoo model and its input: Fashion-MNIST shapes (1×28×28), CIFAR shapes (3×32×32) for resnet20; 10 classes.</summary>
public sealed record ModelCase(string Name, int Channels, int Height, int Width)
{
    public const int Classes = 10;
    private const ulong Seed = 20240601;

    public static ModelCase Of(string name) => name == "resnet20" ? new(name, 3, 32, 32) : new(name, 1, 28, 28);

    public Sequential CreateFovea() => Zoo.Create(Name, Channels, Height, Width, Classes, new Rng(Seed));

    /// <summary>The TorchSharp twin, starting from <paramref name="weights"/>' values (same numbers, same work).</summary>
    public nn.Module<TorchTensor, TorchTensor> CreateTorch(Module weights)
    {
        var model = TorchModels.Create(Name, Channels, Height, Width, Classes);
        TorchWeights.CopyFrom(model, weights);
        return model;
    }

    /// <summary>A random batch (standard normal pixels, uniform labels), the same for every framework.</summary>
    public BenchBatch Batch(int size)
    {
        var rng = new Rng(Seed + (ulong)size);
        var images = Tensor.Normal(new TensorShape(size, Channels, Height, Width), 0f, 1f, rng);
        var labels = Enumerable.Range(0, size).Select(_ => rng.NextInt(Classes)).ToArray();
        return new BenchBatch(images, labels);
    }

    public override string ToString() => Name;
}
