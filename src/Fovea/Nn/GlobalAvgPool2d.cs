using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>Mean of each channel, [N, C, H, W] → [N, C, 1, 1] (PyTorch spells it AdaptiveAvgPool2d(1)).</summary>
public sealed class GlobalAvgPool2d : Module
{
    public override Tensor Forward(Tensor input) => F.GlobalAvgPool2d(input);
    public override JsonObject ToSpec() => new() { ["type"] = nameof(GlobalAvgPool2d) };
    public static GlobalAvgPool2d FromSpec(JsonObject spec, Rng rng) => new();
}
