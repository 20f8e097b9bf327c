using System.Numerics.Tensors;
using Fovea.Kernels;

namespace Fovea;

public static partial class F
{
    /// <summary>
    /// Batch normalisation of x [N, C], [N, C, L] or [N, C, H, W] per channel C:
    /// y = (x − mean)/√(var + ε)·weight + bias. In training (or without running statistics) mean and the
    /// biased var come from the batch, and the running statistics, when given, are updated in place as
    /// PyTorch does: running = (1 − momentum)·running + momentum·batch, running_var taking the unbiased
    /// batch variance. Otherwise the running statistics are used. weight and bias may be null (affine = false).
    /// </summary>
    public static Tensor BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool training, float momentum = 0.1f, float eps = 1e-5f) =>
        NormalizeBatch(x, runningMean, runningVar, weight, bias, training, momentum, eps, relu: false);

    /// <summary>
    /// ReLU(BatchNorm(x)) as one op, the same values and gradients as the two ops in a row: the output is
    /// clamped while it is still in cache and the backward masks dy on the fly, so neither the intermediate
    /// tensor nor the ReLU's own passes over memory are needed.
    /// </summary>
    internal static Tensor BatchNormRelu(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool training, float momentum = 0.1f, float eps = 1e-5f) =>
        NormalizeBatch(x, runningMean, runningVar, weight, bias, training, momentum, eps, relu: true);

    private static Tensor NormalizeBatch(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool training, float momentum, float eps, bool relu)
    {
        if (x.Rank < 2) throw new ArgumentException($"BatchNorm: expected input [N, C, ...], received {x.Shape}");
        int n = x.Shape[0], channels = x.Shape[1], spatial = x.Shape.Product(2, x.Rank), perChannel = n * spatial;
        string op = $"BatchNorm({channels})";
        ExpectPerChannel(op, "running_mean", runningMean, channels);
        ExpectPerChannel(op, "running_var", runningVar, channels);
        ExpectPerChannel(op, "weight", weight, channels);
        ExpectPerChannel(op, "bias", bias, channels);
        if ((runningMean is null) != (runningVar is null))
            throw new ArgumentException($"{op}: running_mean and running_var must be given together.");
        if (training && perChannel <= 1)
            throw new ArgumentException($"{op}: expected more than 1 value per channel when training, received input {x.Shape}");
        if (!(eps >= 0f)) throw new ArgumentException($"{op}: eps must be non-negative. Received {eps}");

        bool batchStats = training || runningMean is null;
        var y = Tensor.Empty(x.Shape);
        float[] xs = x.Data, ys = y.Data;
        float[]? runMean = runningMean?.Data, runVar = runningVar?.Data, w = weight?.Data, b = bias?.Data;
        // Per channel, saved for backward: the mean and 1/√(var + ε) that normalised it.
        float[] stats = TensorPool.Rent(2 * channels);
        int channelsPerChunk = Math.Max(1, ElementwiseGrain / Math.Max(1, perChannel));
        // One thread owns a channel: it sums the channel's statistics in a fixed order (same bits for any
        // thread count) and normalises the channel right after, while its values are still in cache.
        Parallelism.For(channels, (c0, c1) =>
        {
            for (int c = c0; c < c1; c++)
            {
                float mean, invStd;
                if (batchStats)
                {
                    double sum = 0, squares = 0;
                    for (int i = 0; i < n; i++) sum += TensorPrimitives.Sum(xs.AsSpan((i * channels + c) * spatial, spatial));
                    mean = (float)(sum / perChannel);
                    for (int i = 0; i < n; i++)
                    {
                        var slice = xs.AsSpan((i * channels + c) * spatial, spatial);
                        squares += BatchNormKernels.CenteredDot(slice, mean, slice, mean);
                    }
                    invStd = (float)(1 / Math.Sqrt(squares / perChannel + eps));
                    if (training && runMean is not null)
                    {
                        runMean[c] = (1 - momentum) * runMean[c] + momentum * mean;
                        runVar![c] = (float)((1 - momentum) * runVar[c] + momentum * squares / (perChannel - 1));
                    }
                }
                else
                {
                    mean = runMean![c];
                    invStd = (float)(1 / Math.Sqrt(runVar![c] + (double)eps));
                }
                stats[c] = mean;
                stats[channels + c] = invStd;
                float scale = (w?[c] ?? 1f) * invStd, shift = b?[c] ?? 0f;
                for (int i = 0; i < n; i++)
                {
                    int at = (i * channels + c) * spatial;
                    BatchNormKernels.Normalize(xs.AsSpan(at, spatial), mean, scale, shift, relu, ys.AsSpan(at, spatial));
                }
            }
        }, channelsPerChunk);

        return Autograd.Record(y, relu ? "BatchNormRelu" : "BatchNorm", [x, weight, bias], dy =>
        {
            float[] g = dy.Data;
            // Gradient buffers are created lazily: fetch them before going parallel.
            bool overwrite = false;
            float[]? gx = x.RequiresGrad ? Autograd.GradientStorage(x, out overwrite) : null;
            float[]? gw = weight is { RequiresGrad: true } ? GradData(weight) : null;
            float[]? gb = bias is { RequiresGrad: true } ? GradData(bias) : null;
            Parallelism.For(channels, (c0, c1) =>
            {
                for (int c = c0; c < c1; c++)
                {
                    float mean = stats[c], invStd = stats[channels + c];
                    // The forward's scale and shift, to recompute where the fused ReLU let the gradient through.
                    float scale = (w?[c] ?? 1f) * invStd, shift = b?[c] ?? 0f;
                    double sumDy = 0, sumDyCentered = 0;
                    for (int i = 0; i < n; i++)
                    {
                        int at = (i * channels + c) * spatial;
                        var (runDy, runDyCentered) = BatchNormKernels.GradientSums(g.AsSpan(at, spatial), xs.AsSpan(at, spatial), mean, relu, scale, shift);
                        sumDy += runDy;
                        sumDyCentered += runDyCentered;
                    }
                    if (gw is not null) gw[c] += (float)(sumDyCentered * invStd);
                    if (gb is not null) gb[c] += (float)sumDy;
                    if (gx is null) continue;
                    // dx = k·(dy − Σdy/M − x̂·Σ(dy·x̂)/M) with k = weight/σ (the scale) and x̂ = (x − mean)/σ; with
                    // running statistics mean and σ are constants and only k·dy remains.
                    float centeredCoef = batchStats ? (float)(-scale * invStd * invStd * sumDyCentered / perChannel) : 0f;
                    float constant = batchStats ? (float)(-scale * sumDy / perChannel) : 0f;
                    for (int i = 0; i < n; i++)
                    {
                        int at = (i * channels + c) * spatial;
                        BatchNormKernels.InputGradient(gx.AsSpan(at, spatial), overwrite, g.AsSpan(at, spatial), xs.AsSpan(at, spatial), mean,
                            relu, scale, shift, centeredCoef, constant);
                    }
                }
            }, channelsPerChunk);
        }, release: () => TensorPool.Return(stats));
    }

    private static void ExpectPerChannel(string op, string name, Tensor? t, int channels)
    {
        if (t is not null && (t.Rank != 1 || t.Shape[0] != channels))
            throw new ArgumentException($"{op}: {name} must be [{channels}], received {t.Shape}");
    }
}
