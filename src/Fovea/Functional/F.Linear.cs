using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Fovea.Kernels;

namespace Fovea;

public static partial class F
{
    /// <summary>y = x·Wᵀ + b with x [N, in], W [out, in] (PyTorch's layout), b [out].</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        if (weight.Rank != 2) throw new ArgumentException($"Linear: weight must be [out, in]. Received {weight.Shape}");
        int outF = weight.Shape[0], inF = weight.Shape[1];
        if (x.Rank != 2 || x.Shape[1] != inF)
            throw new ArgumentException($"Linear({inF}→{outF}): expected input [N, {inF}], received {x.Shape}");
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outF))
            throw new ArgumentException($"Linear({inF}→{outF}): bias must be [{outF}]. Received {bias.Shape}");
        int n = x.Shape[0];
        var y = Tensor.Empty(n, outF);
        if (bias is not null)
        {
            for (int i = 0; i < n; i++) bias.Values.CopyTo(y.Span.Slice(i * outF, outF));
        }
        if (!Autograd.NeedsGrad(x, weight, bias) && PanelGemv.Supports(n, outF))
        {
            if (bias is null) y.Span.Clear();
            LinearByPanels(x, weight, y);
            return y;
        }
        Gemm.Sgemm(false, true, n, outF, inF, 1f, x.Span, inF, weight.Span, inF, bias is null ? 0f : 1f, y.Span, outF);
        // Inference skips the record: its closure and input list cost a tenth of a batch-1 layer's time.
        if (!Autograd.NeedsGrad(x, weight, bias)) return y;
        return Autograd.Record(y, "Linear", [x, weight, bias], dy =>
        {
            if (x.RequiresGrad)
            {
                // A fresh gradient is written (beta 0), saving the zero-fill and its read-back.
                var gx = Autograd.GradientStorage(x, out bool fresh).AsSpan(0, x.Length);
                Gemm.Sgemm(false, false, n, inF, outF, 1f, dy.Span, outF, weight.Span, inF, fresh ? 0f : 1f, gx, inF);
            }
            if (weight.RequiresGrad) Gemm.Sgemm(true, false, outF, inF, n, 1f, dy.Span, outF, x.Span, inF, 1f, weight.GradSpan, inF);
            if (bias is not null && bias.RequiresGrad)
            {
                var gb = bias.GradSpan;
                for (int i = 0; i < n; i++) TensorPrimitives.Add(gb, dy.Span.Slice(i * outF, outF), gb);
            }
        });
    }

    private static readonly PerWeight<(int Outputs, int Depth), PanelGemv> LinearPanels = new();

    /// <summary>
    /// Batch-1 inference: y [1, out] (holding the bias) += x·Wᵀ, from W's panels kept per weight tensor (packed on a miss,
    /// see <see cref="PanelGemv"/>), panels split among threads; outputs past the last whole panel by dot products of W's rows.
    /// </summary>
    private static unsafe void LinearByPanels(Tensor x, Tensor weight, Tensor y)
    {
        int outputs = weight.Shape[0], depth = weight.Shape[1];
        var plan = LinearPanels.GetOrBuild(weight, (outputs, depth), (outputs, depth), static (s, values) => new PanelGemv(values, s.outputs, s.depth));
        int units = plan.Panels + (outputs > plan.Panels * PanelGemv.PanelWidth ? 1 : 0);
        bool backwards = plan.NextCallBackwards();
        fixed (float* xs = x.Values, w = weight.Values, ys = y.Span)
        {
            nint xp = (nint)xs, wp = (nint)w, yp = (nint)ys;
            // Unit u < Panels is panel u; the last unit, if any, the outputs past the panels.
            void Run(int first, int end)
            {
                plan.Run((float*)xp, (float*)yp, first, Math.Min(end, plan.Panels), backwards);
                if (end > plan.Panels)
                    GemmSmallM<Vector512<float>, V512>.DotRows(1, plan.Panels * PanelGemv.PanelWidth, outputs, depth, 1f,
                        (float*)xp, depth, (float*)wp, depth, (float*)yp, outputs);
            }
            if ((long)outputs * depth < Gemm.SmallRowsForkFlops) Run(0, units);
            else Parallelism.For(units, Run);
        }
    }

    /// <summary>Matrix product of [M, K] and [K, N]; a leading batch dimension on both ([B, M, K]·[B, K, N]) is supported.</summary>
    public static Tensor MatMul(Tensor a, Tensor b)
    {
        bool batched = a.Rank == 3 && b.Rank == 3 && a.Shape[0] == b.Shape[0];
        if (!(a.Rank == 2 && b.Rank == 2 || batched) || a.Shape[-1] != b.Shape[-2])
            throw new ArgumentException($"MatMul: expected [M, K]·[K, N] or [B, M, K]·[B, K, N], received {a.Shape}·{b.Shape}");
        int batch = batched ? a.Shape[0] : 1, m = a.Shape[-2], k = a.Shape[-1], n = b.Shape[-1];
        var y = batched ? Tensor.Empty(batch, m, n) : Tensor.Empty(m, n);
        for (int i = 0; i < batch; i++)
            Gemm.Sgemm(false, false, m, n, k, 1f, a.Span.Slice(i * m * k, m * k), k, b.Span.Slice(i * k * n, k * n), n, 0f, y.Span.Slice(i * m * n, m * n), n);
        return Autograd.Record(y, "MatMul", [a, b], dy =>
        {
            for (int i = 0; i < batch; i++)
            {
                var g = dy.Span.Slice(i * m * n, m * n);
                if (a.RequiresGrad) Gemm.Sgemm(false, true, m, k, n, 1f, g, n, b.Span.Slice(i * k * n, k * n), n, 1f, a.GradSpan.Slice(i * m * k, m * k), k);
                if (b.RequiresGrad) Gemm.Sgemm(true, false, k, n, m, 1f, a.Span.Slice(i * m * k, m * k), k, g, n, 1f, b.GradSpan.Slice(i * k * n, k * n), n);
            }
        });
    }
}
