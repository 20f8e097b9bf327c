using Fovea.Nn;

namespace Fovea.Analysis;

/// <summary>One row of a <see cref="ModelSummary"/>: a layer, the shape it outputs for one image, its parameters and multiply-adds.</summary>
public sealed record LayerSummary(string Name, string Layer, TensorShape OutputShape, long Parameters, long MultiplyAdds);

/// <summary>
/// Keras's <c>summary()</c> for a Fovea model: per layer the output shape, the parameters and the
/// multiply-adds per image, and the totals. A view of the <see cref="CostModel"/> (which holds the
/// formulas) for a model that takes the input as built.
/// </summary>
public sealed class ModelSummary
{
    private ModelSummary(CostModel costs)
    {
        Input = costs.Input;
        Layers = costs.Layers.Select(l => new LayerSummary(l.Name, l.Layer, l.OutputShape, l.Parameters, l.Macs)).ToList();
        TotalParameters = costs.Totals.Parameters;
        TotalMultiplyAdds = costs.Totals.Macs;
    }

    /// <summary>One image: [1, C, H, W].</summary>
    public TensorShape Input { get; }
    public IReadOnlyList<LayerSummary> Layers { get; }
    public long TotalParameters { get; }
    public long TotalMultiplyAdds { get; }

    /// <summary>Summarises <paramref name="model"/> for images of <paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/>; throws when a layer does not take them.</summary>
    public static ModelSummary Of(Module model, int channels, int height, int width)
    {
        var costs = CostModel.Of(model, channels, height, width);
        var misfit = costs.Layers.FirstOrDefault(l => l.SizeMismatch is not null);
        if (misfit is not null) throw new ArgumentException($"Layer {misfit.Name}: {misfit.SizeMismatch}");
        return new ModelSummary(costs);
    }
}
