using static TorchSharp.torch;
using TorchTensor = TorchSharp.torch.Tensor;

namespace Fovea.Bench.Workloads;

/// <summary>One batch of images and labels, with TorchSharp copies of both made on first use (so that Fovea-only runs never load libtorch).</summary>
public sealed class BenchBatch(Tensor images, int[] labels) : IDisposable
{
    private TorchTensor? _torchImages, _torchLabels;

    public Tensor Images { get; } = images;
    public int[] Labels { get; } = labels;
    public int Count => Labels.Length;
    public long[] Shape => [.. Images.Shape.ToArray().Select(d => (long)d)];

    // Detached: the first use may be inside a step's dispose scope, and the batch outlives every step.
    public TorchTensor TorchImages => _torchImages ??= tensor(Images.Span.ToArray(), Shape).DetachFromDisposeScope();
    public TorchTensor TorchLabels => _torchLabels ??= tensor(Labels.Select(l => (long)l).ToArray(), [Count]).DetachFromDisposeScope();

    public void Dispose()
    {
        Images.Dispose();
        _torchImages?.Dispose();
        _torchLabels?.Dispose();
    }
}
