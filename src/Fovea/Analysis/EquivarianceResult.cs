namespace Fovea.Analysis;

/// <summary>What a layer's output is compared with.</summary>
public enum EquivarianceComparison
{
    /// <summary>A spatial map: f(g(x)) against g′(f(x)), g acting on the feature map.</summary>
    Equivariance,

    /// <summary>No spatial map (after Flatten: dense layers): f(g(x)) against f(x).</summary>
    Invariance,
}

/// <summary>
/// One layer under one transformation: the relative error ‖f(g(x)) − g′(f(x))‖ / ‖f(x)‖ (‖f(x)‖ over the positions g′ reads) over the
/// positions that border effects cannot reach (or ‖f(g(x)) − f(x)‖ / ‖f(x)‖ for a layer without a spatial map).
/// </summary>
/// <param name="Index">The layer's place in the probe (0 = first layer).</param>
/// <param name="Name">Its dotted name in the model ("0", "features.3").</param>
/// <param name="Layer">Its description ("Conv2d(1→32, k=3, p=1)").</param>
/// <param name="OutputShape">Its output for the probe images.</param>
/// <param name="Transform">g, on the input images.</param>
/// <param name="FeatureTransform">g′, on this layer's output; null for an invariance comparison.</param>
/// <param name="Comparison">Equivariance (a spatial map) or invariance (none).</param>
/// <param name="RelativeError">The error; null when no position is free of border effects.</param>
/// <param name="InteriorPositions">Output positions compared (per image and channel); for invariance, all outputs.</param>
/// <param name="Positions">Output positions in all (per image and channel).</param>
/// <param name="Jump">Pixels between neighbouring output positions (the cumulative stride); (0, 0) without a spatial map.</param>
/// <param name="ReceptiveField">Pixels each output position sees, (height, width); (0, 0) without a spatial map.</param>
/// <param name="Notes">Why a number deserves care: a shift that is not a multiple of the stride, a grid that a flip does not map onto itself, an empty interior.</param>
public sealed record LayerEquivariance(
    int Index, string Name, string Layer, TensorShape OutputShape,
    ImageTransform Transform, ImageTransform? FeatureTransform, EquivarianceComparison Comparison,
    double? RelativeError, int InteriorPositions, int Positions,
    (int Y, int X) Jump, (int Height, int Width) ReceptiveField, IReadOnlyList<string> Notes)
{
    /// <summary>Whether the relation holds to float32 rounding: an error below <see cref="EquivarianceProbe.Tolerance"/>; null without an interior.</summary>
    public bool? Holds => RelativeError is { } e ? e < EquivarianceProbe.Tolerance : null;

    /// <summary>"equivariant", "not equivariant", "invariant", "not invariant" or "no interior".</summary>
    public string Verdict
    {
        get
        {
            string relation = Comparison == EquivarianceComparison.Equivariance ? "equivariant" : "invariant";
            return Holds switch { true => relation, false => "not " + relation, null => "no interior" };
        }
    }
}

/// <summary>Every probed layer under every transformation, for one model and one batch of images.</summary>
public sealed class EquivarianceReport(TensorShape input, IReadOnlyList<ImageTransform> transforms, IReadOnlyList<LayerEquivariance> results)
{
    /// <summary>The probe images, [N, C, H, W].</summary>
    public TensorShape Input { get; } = input;

    public IReadOnlyList<ImageTransform> Transforms { get; } = transforms;

    /// <summary>Layer after layer; within a layer, in the order of <see cref="Transforms"/>.</summary>
    public IReadOnlyList<LayerEquivariance> Results { get; } = results;

    /// <summary>The probed layers, one result each (the first transformation's), in order.</summary>
    public IReadOnlyList<LayerEquivariance> Layers => [.. Results.Where((_, i) => i % Transforms.Count == 0)];

    /// <summary>The results of layer <paramref name="index"/>, in the order of <see cref="Transforms"/>.</summary>
    public IReadOnlyList<LayerEquivariance> ForLayer(int index) => [.. Results.Skip(index * Transforms.Count).Take(Transforms.Count)];

    /// <summary>The errors of every layer under <paramref name="transform"/>, in layer order (null: no interior).</summary>
    public double?[] Errors(ImageTransform transform)
    {
        int t = Transforms.ToList().IndexOf(transform);
        if (t < 0) throw new ArgumentException($"EquivarianceReport: {transform} was not probed. Probed: {string.Join(", ", Transforms)}");
        return [.. Results.Where((_, i) => i % Transforms.Count == t).Select(r => r.RelativeError)];
    }
}

/// <summary>
/// One channel of one layer's output for one image, both ways round: the picture behind a
/// <see cref="LayerEquivariance"/> number. Arrays are [row, column].
/// </summary>
/// <param name="Name">The layer's dotted name.</param>
/// <param name="Layer">Its description.</param>
/// <param name="Transform">g, on the image.</param>
/// <param name="FeatureTransform">g′, on the feature map.</param>
/// <param name="TransformedImage">g(x), first channel.</param>
/// <param name="MapOfTransformed">f(g(x)).</param>
/// <param name="TransformedMap">g′(f(x)).</param>
/// <param name="Interior">The positions the probe compares (free of border effects).</param>
public sealed record FeatureMapComparison(string Name, string Layer, ImageTransform Transform, ImageTransform FeatureTransform,
    float[,] TransformedImage, float[,] MapOfTransformed, float[,] TransformedMap, bool[,] Interior);
