using System.Globalization;
using Fovea.Nn;

namespace Fovea.Analysis;

/// <summary>
/// Measures, layer by layer, how far a model is from equivariance: ‖f(g(x)) − g′(f(x))‖ / ‖f(x)‖ with f
/// the model up to that layer, g a transformation of the input and g′ the same transformation of the
/// feature map (a translation divided by the layer's cumulative stride). Only output positions whose
/// receptive field lies inside the image — away from zero padding, and away from the zero-filled band
/// that a translation uncovers — in both f(g(x)) and f(x) are compared, so what remains is what the
/// layer itself does, not what the border does. Layers without a spatial map (after Flatten) are
/// compared with f(x) directly: invariance. A Sequential is opened up; any other module (a residual
/// block) is one layer. The model runs in evaluation mode without recording.
/// </summary>
public static class EquivarianceProbe
{
    /// <summary>Below this relative error a layer counts as equivariant (or invariant): float32 rounding, nothing more.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>Shifts right by 1 to <paramref name="maxShift"/> pixels and diagonally by 1, then 90° and 180° rotations and both flips.</summary>
    public static IReadOnlyList<ImageTransform> StandardTransforms(int maxShift)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxShift);
        return
        [
            .. Enumerable.Range(1, maxShift).Select(s => ImageTransform.Translation(s, 0)),
            .. maxShift > 0 ? [ImageTransform.Translation(1, 1)] : Array.Empty<ImageTransform>(),
            ImageTransform.Rotation(1), ImageTransform.Rotation(2), ImageTransform.HorizontalFlip, ImageTransform.VerticalFlip,
        ];
    }

    /// <summary>The layers the probe reports on, with dotted names: the leaves of nested Sequentials.</summary>
    public static IEnumerable<(string Name, Module Layer)> Layers(Module model, string prefix = "") => model is Sequential
        ? model.NamedChildren().SelectMany(c => Layers(c.Module, prefix.Length == 0 ? c.Name : prefix + "." + c.Name))
        : [(prefix, model)];

    /// <summary>Every layer of <paramref name="model"/> under every transformation, on <paramref name="images"/> ([N, C, H, W]).</summary>
    /// <exception cref="ArgumentException">Images not NCHW, no transformation, a rotation of non-square images, or a layer of unknown geometry.</exception>
    public static EquivarianceReport Measure(Module model, Tensor images, IReadOnlyList<ImageTransform> transforms)
    {
        Validate(images, transforms);
        var layers = Layers(model).ToList();
        var results = new List<LayerEquivariance>();
        using (model.Inference())
        {
            var reference = Run(layers, images, layers.Count);
            try
            {
                var perTransform = transforms.Select(g => Compare(layers, images, reference, g)).ToList();
                for (int i = 0; i < layers.Count; i++) results.AddRange(perTransform.Select(r => r[i]));
            }
            finally
            {
                foreach (var (output, _) in reference) output.Dispose();
            }
        }
        return new EquivarianceReport(images.Shape, [.. transforms], results);
    }

    /// <summary>
    /// One channel of one layer's output for one image, both ways round, for pictures: f(g(x)) beside
    /// g′(f(x)), with the interior the probe compares.
    /// </summary>
    /// <param name="model">The model; a Sequential is opened up as in <see cref="Measure"/>.</param>
    /// <param name="image">One image, [1, C, H, W].</param>
    /// <param name="transform">g.</param>
    /// <param name="layerIndex">The layer (as numbered by <see cref="Layers"/>); it must have a spatial map.</param>
    /// <param name="channel">The output channel to show.</param>
    public static FeatureMapComparison CompareFeatureMaps(Module model, Tensor image, ImageTransform transform, int layerIndex, int channel = 0)
    {
        Validate(image, [transform]);
        if (image.Shape[0] != 1) throw new ArgumentException($"CompareFeatureMaps: expected one image [1, C, H, W]. Received: {image.Shape}");
        var layers = Layers(model).ToList();
        if ((uint)layerIndex >= (uint)layers.Count) throw new ArgumentOutOfRangeException(nameof(layerIndex), $"CompareFeatureMaps: the model has {layers.Count} layers. Received: {layerIndex}");
        FeatureMapComparison? comparison = null;
        using (model.Inference())
        {
            using var transformed = transform.Apply(image);
            var plain = Run(layers, image, layerIndex + 1);
            var moved = Run(layers, transformed, layerIndex + 1);
            try
            {
                var (fx, field) = plain[layerIndex];
                var fgx = moved[layerIndex].Output;
                if (field is not { } f || fx.Rank != 4)
                    throw new ArgumentException($"CompareFeatureMaps: layer {layers[layerIndex].Name} ({layers[layerIndex].Layer}) has no spatial map. Received output {fx.Shape}");
                if ((uint)channel >= (uint)fx.Shape[1]) throw new ArgumentOutOfRangeException(nameof(channel), $"CompareFeatureMaps: layer {layers[layerIndex].Name} has {fx.Shape[1]} channels. Received: {channel}");
                var geometry = Geometry.Of(f, transform, image.Shape, fx.Shape);
                using var gfx = geometry.FeatureTransform.Apply(fx);
                var interior = new bool[fx.Shape[2], fx.Shape[3]];
                foreach (var (target, _) in geometry.Pairs()) interior[target / fx.Shape[3], target % fx.Shape[3]] = true;
                comparison = new FeatureMapComparison(layers[layerIndex].Name, layers[layerIndex].Layer.ToString() ?? "", transform, geometry.FeatureTransform,
                    Plane(transformed, 0), Plane(fgx, channel), Plane(gfx, channel), interior);
            }
            finally
            {
                foreach (var (output, _) in plain.Concat(moved)) output.Dispose();
            }
        }
        return comparison!;
    }

    private static void Validate(Tensor images, IReadOnlyList<ImageTransform> transforms)
    {
        if (images.Rank != 4) throw new ArgumentException($"Equivariance probe: expected images [N, C, H, W]. Received: {images.Shape}");
        if (transforms.Count == 0) throw new ArgumentException("Equivariance probe: needs at least one transformation.");
        foreach (var g in transforms)
            if (g.NeedsSquare && images.Shape[2] != images.Shape[3])
                throw new ArgumentException($"Equivariance probe: {g.Name} needs square images. Received: {images.Shape}");
    }

    /// <summary>The outputs of the first <paramref name="count"/> layers on <paramref name="x"/>, each with its receptive field (null once there is no spatial map). The caller disposes the outputs.</summary>
    private static List<(Tensor Output, ReceptiveField? Field)> Run(List<(string Name, Module Layer)> layers, Tensor x, int count)
    {
        var outputs = new List<(Tensor, ReceptiveField?)>(count);
        ReceptiveField? field = ReceptiveField.Identity;
        var h = x;
        for (int i = 0; i < count; i++)
        {
            var (name, layer) = layers[i];
            Tensor y;
            try
            {
                y = layer.Forward(h);
                field = y.Rank == 4 && field is { } f && h.Rank == 4
                    ? f.Through(layer, h.Shape[2], h.Shape[3]) ?? throw new ArgumentException($"Equivariance probe: the spatial geometry of {layer} is unknown, so its border-free interior cannot be found.")
                    : null;
            }
            catch (ArgumentException e)
            {
                foreach (var (output, _) in outputs) output.Dispose();
                throw new ArgumentException($"Layer {name} ({layer}): {e.Message}", e);
            }
            if (ReferenceEquals(y, h)) y = h.Clone(); // each layer's output is kept, so none may alias its input
            outputs.Add((y, field));
            h = y;
        }
        return outputs;
    }

    /// <summary>Every layer's result under <paramref name="g"/>, running g(x) through the layers alongside the outputs on x.</summary>
    private static List<LayerEquivariance> Compare(List<(string Name, Module Layer)> layers, Tensor images, List<(Tensor Output, ReceptiveField? Field)> reference, ImageTransform g)
    {
        using var gx = g.Apply(images);
        var results = new List<LayerEquivariance>(layers.Count);
        var h = gx;
        for (int i = 0; i < layers.Count; i++)
        {
            var y = layers[i].Layer.Forward(h);
            if (!ReferenceEquals(h, gx) && !ReferenceEquals(h, y)) h.Dispose();
            h = y;
            var (fx, field) = reference[i];
            results.Add(field is { } f && fx.Rank == 4
                ? Equivariance(i, layers[i], fx, h, f, g, images.Shape)
                : Invariance(i, layers[i], fx, h, g));
        }
        if (!ReferenceEquals(h, gx)) h.Dispose();
        return results;
    }

    private static LayerEquivariance Equivariance(int index, (string Name, Module Layer) layer, Tensor fx, Tensor fgx, ReceptiveField field, ImageTransform g, TensorShape input)
    {
        var geometry = Geometry.Of(field, g, input, fx.Shape);
        var notes = geometry.Notes();
        double? error = null;
        int interior = 0;
        if (geometry.FeatureTransform.NeedsSquare && fx.Shape[2] != fx.Shape[3])
            notes.Add($"the feature map is {fx.Shape[2]}×{fx.Shape[3]}, not square, so {g.Name} does not map it onto itself");
        else
        {
            var pairs = geometry.Pairs().ToList();
            interior = pairs.Count;
            if (interior > 0) error = RelativeError(fx, fgx, pairs);
            else notes.Add("no interior: every position's receptive field reaches the padding or the zero-filled band");
        }
        return new LayerEquivariance(index, layer.Name, layer.Layer.ToString() ?? "", fx.Shape, g, geometry.FeatureTransform, EquivarianceComparison.Equivariance,
            error, interior, fx.Shape[2] * fx.Shape[3], PerAxis(field, a => a.Jump), PerAxis(field, a => a.Size), notes);
    }

    private static LayerEquivariance Invariance(int index, (string Name, Module Layer) layer, Tensor fx, Tensor fgx, ImageTransform g)
    {
        var a = fgx.Span;
        var b = fx.Span;
        double difference = 0, norm = 0;
        for (int k = 0; k < b.Length; k++)
        {
            double d = a[k] - b[k];
            difference += d * d;
            norm += (double)b[k] * b[k];
        }
        int perImage = fx.Length / fx.Shape[0];
        return new LayerEquivariance(index, layer.Name, layer.Layer.ToString() ?? "", fx.Shape, g, null, EquivarianceComparison.Invariance,
            Ratio(difference, norm), perImage, perImage, (0, 0), (0, 0), ["no spatial map: compared with f(x) (invariance)"]);
    }

    /// <summary>The relative error over the interior pairs (position in f(g(x)), position in f(x)), summed over images and channels.</summary>
    private static double RelativeError(Tensor fx, Tensor fgx, List<(int Target, int Source)> pairs)
    {
        int planes = fx.Shape[0] * fx.Shape[1], plane = fx.Shape[2] * fx.Shape[3];
        var a = fgx.Span;
        var b = fx.Span;
        double difference = 0, norm = 0;
        for (int p = 0; p < planes; p++)
        {
            int offset = p * plane;
            foreach (var (target, source) in pairs)
            {
                double reference = b[offset + source], d = a[offset + target] - reference;
                difference += d * d;
                norm += reference * reference;
            }
        }
        return Ratio(difference, norm);
    }

    /// <summary>A per-axis quantity of the field as the (height, width) ints a result carries.</summary>
    private static (int Y, int X) PerAxis(ReceptiveField field, Func<AxisField, long> value) => (checked((int)value(field.Height)), checked((int)value(field.Width)));

    private static double Ratio(double squaredDifference, double squaredNorm) =>
        squaredNorm > 0 ? Math.Sqrt(squaredDifference / squaredNorm) : squaredDifference == 0 ? 0 : double.PositiveInfinity;

    private static float[,] Plane(Tensor t, int channel)
    {
        int height = t.Shape[2], width = t.Shape[3];
        var plane = new float[height, width];
        var span = t.Span.Slice(channel * height * width, height * width);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) plane[y, x] = span[y * width + x];
        return plane;
    }

    /// <summary>How g and g′ meet on one layer's grid: which positions are compared with which.</summary>
    private sealed record Geometry(ReceptiveField Field, ImageTransform Transform, ImageTransform FeatureTransform, bool Exact, TensorShape Input, TensorShape Output)
    {
        public static Geometry Of(ReceptiveField field, ImageTransform g, TensorShape input, TensorShape output)
        {
            var (jumpY, jumpX) = PerAxis(field, a => a.Jump);
            var (feature, exact) = g.OnFeatureMap(jumpY, jumpX);
            return new Geometry(field, g, feature, exact, input, output);
        }

        private int Height => Input[2];
        private int Width => Input[3];

        /// <summary>
        /// (position in f(g(x)), position in f(x)) for every position of the feature grid that sees only content of g(x)
        /// and whose g′-source sees only pixels of x: the positions no border effect reaches.
        /// </summary>
        public IEnumerable<(int Target, int Source)> Pairs()
        {
            int h = Output[2], w = Output[3];
            var (top, bottom, left, right) = Transform.ContentRegion(Height, Width);
            var rows = Field.Height.Inside(top, bottom, h);
            var columns = Field.Width.Inside(left, right, w);
            var sourceRows = Field.Height.Inside(0, Height - 1, h);
            var sourceColumns = Field.Width.Inside(0, Width - 1, w);
            for (int i = rows.From; i <= rows.To; i++)
                for (int j = columns.From; j <= columns.To; j++)
                    if (FeatureTransform.Source(i, j, h, w) is { } s && s.Y >= sourceRows.From && s.Y <= sourceRows.To && s.X >= sourceColumns.From && s.X <= sourceColumns.To)
                        yield return (i * w + j, s.Y * w + s.X);
        }

        public List<string> Notes()
        {
            var notes = new List<string>();
            if (!Exact)
                notes.Add(string.Create(CultureInfo.InvariantCulture,
                    $"shift not a multiple of the stride: the layer's jump is {Field.Width.Jump}×{Field.Height.Jump} pixels, so it is compared with the feature map shifted by ({FeatureTransform.Dx}, {FeatureTransform.Dy})"));
            var (mirrorY, mirrorX) = Transform.MirroredAxes;
            if (mirrorY && !Field.Height.IsSymmetric(Output[2], Height) || mirrorX && !Field.Width.IsSymmetric(Output[3], Width))
                notes.Add($"the feature grid is not symmetric about the image centre, so {Transform.Name} also misaligns its positions");
            return notes;
        }
    }
}
