using System.Numerics;
using System.Numerics.Tensors;

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
        bool training, float momentum = 0.1f, float eps = 1e-5f)
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
        float[] xs = x.Data;
        float[]? runMean = runningMean?.Data, runVar = runningVar?.Data, w = weight?.Data, b = bias?.Data;
        // Per channel, saved for backward: the mean and 1/√(var + ε) that normalised it.
        float[] stats = TensorPool.Rent(2 * channels);
        int channelsPerChunk = Math.Max(1, ElementwiseGrain / Math.Max(1, perChannel));
        // One channel's statistics are summed by one thread in a fixed order: same bits for any thread count.
        Parallelism.For(channels, (c0, c1) =>
        {
            for (int c = c0; c < c1; c++)
            {
                if (!batchStats)
                {
                    stats[c] = runMean![c];
                    stats[channels + c] = (float)(1 / Math.Sqrt(runVar![c] + (double)eps));
                    continue;
                }
                double sum = 0, squares = 0;
                for (int i = 0; i < n; i++) sum += TensorPrimitives.Sum(xs.AsSpan((i * channels + c) * spatial, spatial));
                float mean = (float)(sum / perChannel);
                for (int i = 0; i < n; i++)
                {
                    var slice = xs.AsSpan((i * channels + c) * spatial, spatial);
                    squares += CenteredDot(slice, mean, slice, mean);
                }
                stats[c] = mean;
                stats[channels + c] = (float)(1 / Math.Sqrt(squares / perChannel + eps));
                if (training && runMean is not null)
                {
                    runMean[c] = (1 - momentum) * runMean[c] + momentum * mean;
                    runVar![c] = (float)((1 - momentum) * runVar[c] + momentum * squares / (perChannel - 1));
                }
            }
        }, channelsPerChunk);

        var y = Tensor.Empty(x.Shape);
        float[] ys = y.Data;
        Parallelism.For(n * channels, (k0, k1) =>
        {
            for (int k = k0; k < k1; k++)
            {
                int c = k % channels;
                float scale = (w?[c] ?? 1f) * stats[channels + c];
                Normalize(xs.AsSpan(k * spatial, spatial), stats[c], scale, b?[c] ?? 0f, ys.AsSpan(k * spatial, spatial));
            }
        }, Math.Max(1, ElementwiseGrain / Math.Max(1, spatial)));

        return Autograd.Record(y, "BatchNorm", [x, weight, bias], dy =>
        {
            float[] g = dy.Data;
            // Gradient buffers are created lazily: fetch them before going parallel.
            float[]? gx = x.RequiresGrad ? GradData(x) : null;
            float[]? gw = weight is { RequiresGrad: true } ? GradData(weight) : null;
            float[]? gb = bias is { RequiresGrad: true } ? GradData(bias) : null;
            Parallelism.For(channels, (c0, c1) =>
            {
                for (int c = c0; c < c1; c++)
                {
                    float mean = stats[c], invStd = stats[channels + c];
                    double sumDy = 0, sumDyCentered = 0;
                    for (int i = 0; i < n; i++)
                    {
                        int at = (i * channels + c) * spatial;
                        sumDy += TensorPrimitives.Sum(g.AsSpan(at, spatial));
                        sumDyCentered += CenteredDot(g.AsSpan(at, spatial), 0f, xs.AsSpan(at, spatial), mean);
                    }
                    if (gw is not null) gw[c] += (float)(sumDyCentered * invStd);
                    if (gb is not null) gb[c] += (float)sumDy;
                    if (gx is null) continue;
                    // dx = k·(dy − Σdy/M − x̂·Σ(dy·x̂)/M) with k = weight/σ and x̂ = (x − mean)/σ; with running
                    // statistics mean and σ are constants and only k·dy remains.
                    float k = (w?[c] ?? 1f) * invStd;
                    float centeredCoef = batchStats ? (float)(-k * invStd * invStd * sumDyCentered / perChannel) : 0f;
                    float constant = batchStats ? (float)(-k * sumDy / perChannel) : 0f;
                    for (int i = 0; i < n; i++)
                    {
                        int at = (i * channels + c) * spatial;
                        AccumulateNormGrad(gx.AsSpan(at, spatial), g.AsSpan(at, spatial), xs.AsSpan(at, spatial), k, centeredCoef, mean, constant);
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

    /// <summary>Σ (a − ma)·(b − mb), centred before multiplying so large means do not cancel digits away.</summary>
    private static float CenteredDot(ReadOnlySpan<float> a, float ma, ReadOnlySpan<float> b, float mb)
    {
        int i = 0, width = Vector<float>.Count;
        var acc = Vector<float>.Zero;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> vma = new(ma), vmb = new(mb);
            for (; i <= a.Length - width; i += width) acc += (new Vector<float>(a[i..]) - vma) * (new Vector<float>(b[i..]) - vmb);
        }
        float sum = Vector.Sum(acc);
        for (; i < a.Length; i++) sum += (a[i] - ma) * (b[i] - mb);
        return sum;
    }

    /// <summary>y = (x − mean)·scale + shift.</summary>
    private static void Normalize(ReadOnlySpan<float> x, float mean, float scale, float shift, Span<float> y)
    {
        int i = 0, width = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> vm = new(mean), vs = new(scale), vb = new(shift);
            for (; i <= x.Length - width; i += width) ((new Vector<float>(x[i..]) - vm) * vs + vb).CopyTo(y[i..]);
        }
        for (; i < x.Length; i++) y[i] = (x[i] - mean) * scale + shift;
    }

    /// <summary>gx += k·dy + centeredCoef·(x − mean) + constant.</summary>
    private static void AccumulateNormGrad(Span<float> gx, ReadOnlySpan<float> dy, ReadOnlySpan<float> x, float k, float centeredCoef, float mean, float constant)
    {
        int i = 0, width = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> vk = new(k), vc = new(centeredCoef), vm = new(mean), vb = new(constant);
            for (; i <= x.Length - width; i += width)
                (new Vector<float>(gx[i..]) + vk * new Vector<float>(dy[i..]) + vc * (new Vector<float>(x[i..]) - vm) + vb).CopyTo(gx[i..]);
        }
        for (; i < x.Length; i++) gx[i] += k * dy[i] + centeredCoef * (x[i] - mean) + constant;
    }
}
