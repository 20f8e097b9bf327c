using Fovea.Bench.Measurement;
using Fovea.Bench.Peak;
using Fovea.Kernels;
using static TorchSharp.torch;

namespace Fovea.Bench.Sections;

/// <summary>
/// GFLOP/s of the kernels under the models, Fovea vs libtorch (TorchSharp), and as a share of the
/// FMA peak this run measures itself: square SGEMMs, the models' GEMM shapes, and a ResNet-sized
/// 3×3 convolution forward and forward+backward.
/// </summary>
public static class KernelSection
{
    /// <summary>A GEMM C[M, N] = A[M, K] · B; B is [K, N], or [N, K] read transposed (TransB) as a Linear layer's weight is.</summary>
    private sealed record GemmShape(string Name, int M, int N, int K, bool TransB = false);

    public static void Run(BenchContext context)
    {
        MeasurePeak(context);
        context.EnsureTorch();
        foreach (var shape in Shapes(context.Options.Quick)) GemmRow(context, shape);
        Conv(context, backward: false);
        if (!context.Options.Quick) Conv(context, backward: true);
    }

    private static IEnumerable<GemmShape> Shapes(bool quick)
    {
        int[] squares = quick ? [256, 1024] : [256, 1024, 2048];
        foreach (int n in squares) yield return new($"SGEMM {n}³", n, n, n);
        // Batch 64, forward; a conv as one GEMM: weights [O, C·k·k] × columns [C·k·k, N·H·W].
        yield return new("cnn-bn conv2 as GEMM", 32, 64 * 28 * 28, 32 * 9);
        yield return new("cnn-bn fc1 (Linear)", 64, 256, 64 * 7 * 7, TransB: true);
        if (quick) yield break;
        yield return new("cnn-small conv2 as GEMM", 64, 64 * 14 * 14, 32 * 9);
        yield return new("cnn-bn conv4 as GEMM", 64, 64 * 14 * 14, 64 * 9);
        yield return new("resnet20 stage-1 conv as GEMM", 16, 64 * 32 * 32, 16 * 9);
        yield return new("resnet20 stage-3 conv as GEMM", 64, 64 * 8 * 8, 64 * 9);
        yield return new("cnn-small fc1 (Linear)", 64, 128, 64 * 7 * 7, TransB: true);
        yield return new("mlp fc1 (Linear)", 64, 256, 28 * 28, TransB: true);
    }

    private static void MeasurePeak(BenchContext context)
    {
        var o = context.Options;
        foreach (var width in FmaPeak.Widths)
        {
            context.Progress.Report($"kernels: FMA peak {width}");
            var samples = Enumerable.Range(0, o.Repetitions).Select(_ => FmaPeak.Measure(width, o.Threads, o.Quick ? 0.1 : 0.3)).ToList();
            context.Report.FmaPeaks[width] = Stats.Of(samples);
        }
    }

    private static void GemmRow(BenchContext context, GemmShape s)
    {
        var rng = new Rng(11);
        float[] a = Random(rng, s.M * s.K), b = Random(rng, s.K * s.N), c = new float[s.M * s.N];
        int ldb = s.TransB ? s.K : s.N;
        using var ta = tensor(a, [s.M, s.K]);
        using var tb = tensor(b, s.TransB ? [s.N, s.K] : [s.K, s.N]);
        using var tbOperand = s.TransB ? tb.t() : tb.alias();
        AddRow(context, s.Name, $"M={s.M} N={s.N} K={s.K}{(s.TransB ? ", B transposed" : "")}", 2.0 * s.M * s.N * s.K,
            () => Gemm.Sgemm(false, s.TransB, s.M, s.N, s.K, 1f, a, s.K, b, ldb, 0f, c, s.N),
            () => TorchStep(() => mm(ta, tbOperand)));
    }

    /// <summary>3×3 conv 64→64 on 56×56, batch 8, padding 1; backward adds the data and weight gradients (2× the forward's FLOPs).</summary>
    private static void Conv(BenchContext context, bool backward)
    {
        const int batch = 8, channels = 64, size = 56;
        var rng = new Rng(12);
        using var x = Tensor.Normal(new TensorShape(batch, channels, size, size), 0f, 1f, rng);
        using var w = Tensor.Normal(new TensorShape(channels, channels, 3, 3), 0f, 0.05f, rng);
        using var dy = Tensor.Ones(batch, channels, size, size);
        x.RequiresGrad = backward;
        w.RequiresGrad = backward;
        using var tx = tensor(x.ToArray(), [batch, channels, size, size]).requires_grad_(backward);
        using var tw = tensor(w.ToArray(), [channels, channels, 3, 3]).requires_grad_(backward);
        using var tdy = ones(batch, channels, size, size);
        double forwardFlops = 2.0 * batch * channels * size * size * channels * 9;
        long[] padding = [1, 1];
        if (backward)
            AddRow(context, "conv3×3 64→64 56×56 b8 fwd+bwd", "F.Conv2d + Backward vs conv2d + backward", 3 * forwardFlops,
                () =>
                {
                    var y = F.Conv2d(x, w, padding: 1);
                    y.Backward(dy);
                    y.DisposeGraph();
                },
                () => TorchStep(() => nn.functional.conv2d(tx, tw, padding: padding).backward([tdy])));
        else
            AddRow(context, "conv3×3 64→64 56×56 b8 fwd", "F.Conv2d vs conv2d, no grad", forwardFlops,
                () =>
                {
                    using var _ = Autograd.NoGrad();
                    F.Conv2d(x, w, padding: 1).Dispose();
                },
                () => TorchStep(() =>
                {
                    using var _ = no_grad();
                    nn.functional.conv2d(tx, tw, padding: padding);
                }));
    }

    private static void TorchStep(Action body)
    {
        using var scope = NewDisposeScope();
        body();
    }

    private static void AddRow(BenchContext context, string name, string detail, double flops, Action fovea, Action torch)
    {
        var row = context.Contest.Run("kernels", name, Metric.Rate("GFLOP/s", flops / 1e9),
            [new(Frameworks.Fovea, fovea), new(Frameworks.Torch, torch)]);
        string ofPeak = context.Report.Peak is double peak
            ? $"; % of peak: Fovea {100 * row.Results[Frameworks.Fovea].Median / peak:0}%, libtorch {100 * row.Results[Frameworks.Torch].Median / peak:0}%"
            : "";
        context.Report.Rows.Add(row with { Note = detail + ofPeak });
    }

    private static float[] Random(Rng rng, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = rng.NextFloat() * 2 - 1;
        return values;
    }
}
