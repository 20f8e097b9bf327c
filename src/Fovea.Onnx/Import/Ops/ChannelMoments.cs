namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// The batch mean and population (biased) variance of each channel of x [N, C, …], as BatchNormalization's
/// training mode reports them in its running-statistics outputs. Accumulated in double, one channel per
/// thread in a fixed order, so the bits do not depend on the thread count.
/// </summary>
internal static class ChannelMoments
{
    public static unsafe (float[] Mean, float[] Variance) Of(Tensor x)
    {
        fixed (float* xs = x.Span) return Of(new PinnedSpan<float>(xs, x.Length), x.Shape);
    }

    private static (float[] Mean, float[] Variance) Of(PinnedSpan<float> xs, TensorShape shape)
    {
        int n = shape[0], channels = shape[1], plane = shape.Product(2, shape.Rank);
        var mean = new float[channels];
        var variance = new float[channels];
        Parallelism.For(channels, (c0, c1) =>
        {
            for (int c = c0; c < c1; c++)
            {
                double sum = 0, squares = 0;
                for (int i = 0; i < n; i++)
                    foreach (float v in xs.Slice((i * channels + c) * plane, plane)) sum += v;
                double m = sum / ((double)n * plane);
                for (int i = 0; i < n; i++)
                    foreach (float v in xs.Slice((i * channels + c) * plane, plane)) squares += (v - m) * (v - m);
                mean[c] = (float)m;
                variance[c] = (float)(squares / ((double)n * plane));
            }
        });
        return (mean, variance);
    }
}
