using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>Batch normalisation of [N, C] or [N, C, L] per channel (see <see cref="F.BatchNorm"/>).</summary>
public sealed class BatchNorm1d(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNormBase(numFeatures, eps, momentum, affine, trackRunningStats)
{
    protected override string ExpectedLayout => $"[N, {NumFeatures}] or [N, {NumFeatures}, L]";
    protected override bool AcceptsRank(int rank) => rank is 2 or 3;

    public static BatchNorm1d FromSpec(JsonObject spec, Rng rng)
    {
        var (numFeatures, eps, momentum, affine, track) = ReadSpec(spec);
        return new BatchNorm1d(numFeatures, eps, momentum, affine, track);
    }
}
