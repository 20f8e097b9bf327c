using System.Text.Json.Nodes;
using Fovea.Kernels;

namespace Fovea.Nn;

/// <summary>Average pooling to a fixed output size, whatever the input's height and width.</summary>
public sealed class AdaptiveAvgPool2d : Module
{
    public (int H, int W) OutputSize { get; }

    public AdaptiveAvgPool2d(int outputSize) : this((outputSize, outputSize)) { }

    public AdaptiveAvgPool2d((int H, int W) outputSize)
    {
        if (outputSize.H < 1 || outputSize.W < 1) throw new ArgumentException($"AdaptiveAvgPool2d: output size must be positive. Received {PoolGeometry.Pair(outputSize)}");
        OutputSize = outputSize;
    }

    public override Tensor Forward(Tensor input) => F.AdaptiveAvgPool2d(input, OutputSize);

    public override string ToString() => $"AdaptiveAvgPool2d(output={PoolGeometry.Pair(OutputSize)})";

    public override JsonObject ToSpec() => new() { ["type"] = nameof(AdaptiveAvgPool2d), ["output_size"] = SpecPairs.Write(OutputSize) };

    public static AdaptiveAvgPool2d FromSpec(JsonObject spec, Rng rng) => new(SpecPairs.Read(spec, "output_size"));
}
