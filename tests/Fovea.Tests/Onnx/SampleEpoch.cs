using Fovea.Nn;
using Fovea.Optim;
using Fovea.Tests.Training;

namespace Fovea.Tests.Onnx;

/// <summary>
/// One short epoch on the bundled Fashion-MNIST sample: its first <see cref="Images"/> training images
/// in batches of <see cref="BatchSize"/>, plain SGD with momentum. Enough to move every weight and every
/// batch-norm statistic away from its initial value, which is what the export checks need. Images are
/// centred in larger frames with zero borders and repeated over channels for 3×32×32 models.
/// </summary>
internal static class SampleEpoch
{
    private const int Images = 128, BatchSize = 32;

    public static void Train(Module model, int channels, int height, int width)
    {
        var data = SampleData.Train.Take(Images);
        var optimizer = new SGD(model.Parameters(), lr: 0.02, momentum: 0.9);
        model.Train();
        for (int start = 0; start < data.Count; start += BatchSize)
        {
            int count = Math.Min(BatchSize, data.Count - start);
            using var x = Batch(data, start, count, channels, height, width);
            int[] labels = data.Labels.Slice(start, count).ToArray();
            optimizer.ZeroGrad();
            using var loss = F.CrossEntropy(model.Forward(x), labels);
            loss.Backward();
            optimizer.Step();
        }
        model.Eval();
    }

    /// <summary>Normalised images, Fashion-MNIST's mean and std, placed at the centre of each channel of a zero frame.</summary>
    private static Tensor Batch(Fovea.Data.ImageDataset data, int start, int count, int channels, int height, int width)
    {
        var values = new float[count * channels * height * width];
        int top = (height - data.Height) / 2, left = (width - data.Width) / 2;
        for (int i = 0; i < count; i++)
        {
            var image = data.Image(start + i);
            for (int c = 0; c < channels; c++)
                for (int y = 0; y < data.Height; y++)
                    for (int x = 0; x < data.Width; x++)
                        values[((i * channels + c) * height + top + y) * width + left + x] = (image[y * data.Width + x] / 255f - 0.2860f) / 0.3530f;
        }
        return Tensor.FromArray(values, count, channels, height, width);
    }
}
