using Fovea.Nn;

namespace Fovea.Analysis;

/// <summary>The cost model of a zoo model on any image size, without building weights that would not fit in memory.</summary>
public static class ZooCosts
{
    /// <summary>Weights a zoo model may take when it is built for the requested size (64 MB).</summary>
    public const long BuildLimitBytes = 64L << 20;

    /// <summary>
    /// Zoo models size their Linear heads and locally connected layers for the input. The model is first
    /// built for 28×28 images and costed on the requested size (those layers costed from their formulas);
    /// if its weights there fit in <see cref="BuildLimitBytes"/>, it is rebuilt for that size so that
    /// nothing is flagged. On a megapixel image the flagged rows then say what such layers would need.
    /// </summary>
    public static CostModel Of(string name, int channels, int height, int width)
    {
        var costs = CostModel.Of(Zoo.Create(name, channels, rng: new Rng(0)), channels, height, width);
        return costs.TakesInput || costs.Totals.WeightBytes > BuildLimitBytes
            ? costs
            : CostModel.Of(Zoo.Create(name, channels, height, width, rng: new Rng(0)), channels, height, width);
    }
}
