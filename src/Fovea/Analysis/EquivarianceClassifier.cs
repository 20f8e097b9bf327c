using Fovea.Data;
using Fovea.Nn;
using Fovea.Training;

namespace Fovea.Analysis;

/// <summary>A whole classifier on test images shifted by <see cref="Shift"/> pixels, averaged over the eight directions of <see cref="ShiftRobustness.Directions"/>.</summary>
/// <param name="Shift">Pixels; a diagonal shift moves this many along both axes. 0 is the unshifted test set.</param>
/// <param name="Accuracy">Fraction of shifted images classified correctly.</param>
/// <param name="Unchanged">Fraction of shifted images given the class the unshifted image got.</param>
public sealed record ShiftAccuracy(int Shift, double Accuracy, double Unchanged);

/// <summary>
/// How a trained classifier copes with translated test images: for each shift s in 0…max, every test
/// image is moved s pixels in each of the eight directions (right, left, down, up and the four
/// diagonals, each diagonal s pixels along both axes), the uncovered band filled with black (pixel 0,
/// before normalisation, as a camera would see an object move), and the accuracy and the fraction of
/// unchanged predictions are averaged over the directions.
/// </summary>
public sealed class ShiftRobustness
{
    private ShiftRobustness(int images, IReadOnlyList<ShiftAccuracy> shifts)
    {
        Images = images;
        Shifts = shifts;
    }

    /// <summary>(dx, dy) unit steps: right, left, down, up, then the diagonals.</summary>
    public static IReadOnlyList<(int Dx, int Dy)> Directions { get; } = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)];

    /// <summary>Test images used.</summary>
    public int Images { get; }

    /// <summary>One entry per shift, 0 first.</summary>
    public IReadOnlyList<ShiftAccuracy> Shifts { get; }

    /// <summary>Accuracy on the unshifted images.</summary>
    public double CleanAccuracy => Shifts[0].Accuracy;

    /// <summary>
    /// Classifies every image of <paramref name="test"/> unshifted and shifted by 1…<paramref name="maxShift"/> pixels in the eight
    /// directions, normalising as <paramref name="normalization"/> says (the model's training normalisation), in evaluation mode.
    /// </summary>
    /// <exception cref="ArgumentException">An empty data set, a negative shift, or a model whose output is not [N, classes].</exception>
    public static ShiftRobustness Measure(Module model, ImageDataset test, Normalization normalization, int maxShift, int batchSize = 200)
    {
        if (test.Count == 0) throw new ArgumentException($"ShiftRobustness: the data set from {test.Source} has no images.");
        ArgumentOutOfRangeException.ThrowIfNegative(maxShift);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        normalization.CheckChannels(test.Channels);
        var correct = new long[maxShift + 1];
        var unchanged = new long[maxShift + 1];
        using (model.Inference())
        {
            for (int start = 0; start < test.Count; start += batchSize)
            {
                int count = Math.Min(batchSize, test.Count - start);
                using var pixels = Pixels(test, start, count);
                var labels = test.Labels.Slice(start, count);
                var original = Predict(model, pixels, ImageTransform.Translation(0, 0), normalization, test.ClassCount);
                Tally(original, original, labels, ref correct[0], ref unchanged[0]);
                for (int s = 1; s <= maxShift; s++)
                    foreach (var (dx, dy) in Directions)
                        Tally(Predict(model, pixels, ImageTransform.Translation(s * dx, s * dy), normalization, test.ClassCount), original, labels, ref correct[s], ref unchanged[s]);
            }
        }
        var shifts = Enumerable.Range(0, maxShift + 1).Select(s =>
        {
            double seen = (double)test.Count * (s == 0 ? 1 : Directions.Count);
            return new ShiftAccuracy(s, correct[s] / seen, unchanged[s] / seen);
        }).ToList();
        return new ShiftRobustness(test.Count, shifts);
    }

    /// <summary>Images start … start + count − 1 as pixels/255, [count, C, H, W].</summary>
    private static Tensor Pixels(ImageDataset data, int start, int count)
    {
        var pixels = Tensor.Empty(count, data.Channels, data.Height, data.Width);
        var span = pixels.Span;
        for (int i = 0; i < count; i++)
        {
            var image = data.Image(start + i);
            var target = span.Slice(i * data.ImageSize, data.ImageSize);
            for (int k = 0; k < image.Length; k++) target[k] = image[k] / 255f;
        }
        return pixels;
    }

    private static int[] Predict(Module model, Tensor pixels, ImageTransform shift, Normalization normalization, int classes)
    {
        using var images = shift.Apply(pixels);
        int channels = images.Shape[1], size = images.Length / images.Shape[0];
        for (int i = 0; i < images.Shape[0]; i++) normalization.Apply(images.Span.Slice(i * size, size), channels);
        using var logits = model.Forward(images);
        if (logits.Rank != 2 || logits.Shape[1] != classes)
            throw new ArgumentException($"ShiftRobustness: {model} produces {logits.Shape} for {images.Shape}, but the data has {classes} classes: expected [{images.Shape[0]}, {classes}].");
        return Trainer.ArgMaxRows(logits);
    }

    private static void Tally(int[] predicted, int[] original, ReadOnlySpan<int> labels, ref long correct, ref long unchanged)
    {
        for (int i = 0; i < predicted.Length; i++)
        {
            if (predicted[i] == labels[i]) correct++;
            if (predicted[i] == original[i]) unchanged++;
        }
    }
}
