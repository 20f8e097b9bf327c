using System.Numerics.Tensors;
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
            for (int i = 0; i < n; i++) bias.Span.CopyTo(y.Span.Slice(i * outF, outF));
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
