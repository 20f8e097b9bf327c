using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>Batch normalisation of [N, C, H, W] per channel (see <see cref="F.BatchNorm"/>).</summary>
public sealed class BatchNorm2d(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNormBase(numFeatures, eps, momentum, affine, trackRunningStats)
{
    protected override string ExpectedLayout => $"[N, {NumFeatures}, H, W]";
    protected override bool AcceptsRank(int rank) => rank == 4;

    public static BatchNorm2d FromSpec(JsonObject spec, Rng rng)
    {
        var (numFeatures, eps, momentum, affine, track) = ReadSpec(spec);
        return new BatchNorm2d(numFeatures, eps, momentum, affine, track);
    }
}
