using Blas = Fovea.Kernels.Gemm;

namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// Gemm and MatMul. The common shapes go through F.Linear and F.MatMul (differentiable, and the fast
/// GEMM); what F cannot express — a transposed A, batches that broadcast — is an inference-only SGEMM loop.
/// </summary>
internal static class MatrixOps
{
    /// <summary>
    /// Y = α·A'·B' + β·C with A' = Aᵀ when transA, B' = Bᵀ when transB, and C (optional) broadcast one way
    /// to [M, N]. Opset 6 broadcasts C only with broadcast = 1. With transB, α = β = 1 and a bias of [N]
    /// this is exactly F.Linear (B is PyTorch's [out, in] weight).
    /// </summary>
    [OnnxOp("Gemm")]
    public static OnnxKernel Gemm(OnnxNodeContext node)
    {
        bool transA = node.Int("transA", 0) != 0, transB = node.Int("transB", 0) != 0;
        float alpha = node.Float("alpha", 1f), beta = node.Float("beta", 1f);
        bool broadcastC = node.Opset >= 7 || node.Int("broadcast", 0) != 0;
        return inputs =>
        {
            Tensor a = inputs[0]!.FloatData("A"), b = inputs[1]!.FloatData("B");
            var c = inputs.ElementAtOrDefault(2)?.FloatData("C");
            if (a.Rank != 2 || b.Rank != 2) throw new ArgumentException($"A and B must be matrices, received A {a.Shape}, B {b.Shape}");
            int m = a.Shape[transA ? 1 : 0], k = a.Shape[transA ? 0 : 1], n = b.Shape[transB ? 0 : 1];
            if (b.Shape[transB ? 1 : 0] != k)
                throw new ArgumentException($"A{(transA ? "ᵀ" : "")} is [{m}, {k}] and B{(transB ? "ᵀ" : "")} is [{b.Shape[transB ? 1 : 0]}, {n}]: inner dimensions differ");
            int[] yDims = [m, n];
            if (c is not null && !(broadcastC ? Broadcasting.Reaches(c.Shape.AsSpan(), yDims) : c.Shape.AsSpan().SequenceEqual(yDims)))
                throw new ArgumentException($"C {c.Shape} does not broadcast to the product's shape {TensorShape.Format(yDims)}");
            if (beta == 0f) c = null;  // ONNX Runtime skips C then, NaNs included

            if (!transA && transB && alpha == 1f && beta == 1f && (c is null || c.Rank == 1 && c.Length == n))
                return [OnnxValue.Float(F.Linear(a, b, c))];
            var product = transA ? TransposedAProduct(a, b, transB, m, n, k, alpha) : transB ? F.Linear(a, b) : F.MatMul(a, b);
            var scaled = transA || alpha == 1f ? product : F.Mul(product, alpha);
            var bias = c is null || beta == 1f ? c : F.Mul(c, beta);
            var y = bias is null ? scaled : F.Add(scaled, bias);
            return [OnnxValue.Float(Temporaries.Release(y, [a, b, c], product, scaled, bias))];
        };
    }

    /// <summary>α·Aᵀ·B' straight into SGEMM, which reads A transposed in place (F has no transpose).</summary>
    private static Tensor TransposedAProduct(Tensor a, Tensor b, bool transB, int m, int n, int k, float alpha)
    {
        var y = Tensor.Empty(m, n);
        Blas.Sgemm(true, transB, m, n, k, alpha, a.Span, m, b.Span, b.Shape[1], 0f, y.Span, n);
        return y;
    }

    /// <summary>
    /// NumPy's matmul: a vector operand becomes a matrix ([K] → [1, K] on the left, [K, 1] on the right) and
    /// that dimension is dropped from the result; leading dimensions are batches that broadcast.
    /// </summary>
    [OnnxOp("MatMul")]
    public static OnnxKernel MatMul(OnnxNodeContext node) => inputs =>
        [OnnxValue.Float(NumpyMatMul(inputs[0]!.FloatData("A"), inputs[1]!.FloatData("B")))];

    private static Tensor NumpyMatMul(Tensor a, Tensor b)
    {
        if (a.Rank == 0 || b.Rank == 0) throw new ArgumentException($"MatMul takes no scalars, received {a.Shape}·{b.Shape}");
        if (a.Rank == 2 && b.Rank == 2) return F.MatMul(a, b);
        int[] aDims = a.Rank == 1 ? [1, a.Length] : a.Shape.ToArray(), bDims = b.Rank == 1 ? [b.Length, 1] : b.Shape.ToArray();
        int m = aDims[^2], k = aDims[^1], n = bDims[^1];
        var batch = bDims[^2] == k ? Broadcasting.Shape(aDims.AsSpan(..^2), bDims.AsSpan(..^2)) : null;
        if (batch is null) throw new ArgumentException($"MatMul: {a.Shape}·{b.Shape} do not multiply (inner dimensions must match, batch dimensions broadcast)");
        int[] yDims = [.. batch, .. a.Rank == 1 ? Array.Empty<int>() : [m], .. b.Rank == 1 ? Array.Empty<int>() : [n]];

        if (bDims.Length != 2 && !aDims.AsSpan(..^2).SequenceEqual(bDims.AsSpan(..^2)))
            return Reshaped(BroadcastBatches(a, b, aDims, bDims, batch, m, k, n), yDims);
        // One right-hand matrix: A's batches fold into the rows of a single product. Equal batches: one batched product.
        int count = aDims[..^2].Aggregate(1, (p, d) => p * d);
        var (left, right) = bDims.Length == 2 ? (Reshaped(a, [count * m, k]), Reshaped(b, bDims)) : (Reshaped(a, [count, m, k]), Reshaped(b, [count, k, n]));
        var y = F.MatMul(left, right);
        return Temporaries.Release(Reshaped(y, yDims), [a, b], left, right, y);
    }

    /// <summary>One SGEMM per batch of the broadcast batch shape, each operand's matrix found through its (broadcast) strides.</summary>
    private static Tensor BroadcastBatches(Tensor a, Tensor b, int[] aDims, int[] bDims, int[] batch, int m, int k, int n)
    {
        var y = Tensor.Empty([.. batch, m, n]);
        int[] aStrides = Broadcasting.Strides(aDims.AsSpan(..^2), batch), bStrides = Broadcasting.Strides(bDims.AsSpan(..^2), batch);
        int count = batch.Aggregate(1, (p, d) => p * d);
        for (int i = 0; i < count; i++)
        {
            int ai = Broadcasting.Offset(i, batch, aStrides), bi = Broadcasting.Offset(i, batch, bStrides);
            Blas.Sgemm(false, false, m, n, k, 1f, a.Span.Slice(ai * m * k, m * k), k, b.Span.Slice(bi * k * n, k * n), n, 0f, y.Span.Slice(i * m * n, m * n), n);
        }
        return y;
    }

    private static Tensor Reshaped(Tensor t, int[] dims) => t.Shape.AsSpan().SequenceEqual(dims) ? t : F.Reshape(t, dims);
}
