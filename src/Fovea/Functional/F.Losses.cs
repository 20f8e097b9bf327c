using System.Numerics.Tensors;

namespace Fovea;

public static partial class F
{
    /// <summary>
    /// Cross-entropy between <paramref name="logits"/> [N, C] (or [N, C, d1, …], one class axis per
    /// position) and class indices <paramref name="targets"/> (N, or N·d1·… in row-major order).
    /// With label smoothing ε the target distribution is (1 − ε)·onehot + ε/C, as in PyTorch. Log-softmax
    /// is fused in, so the gradient is (softmax − target distribution) scaled by the reduction.
    /// PyTorch's class weights and ignore_index are not supported.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, int[] targets, float labelSmoothing = 0f, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (logits.Rank < 2 || logits.Shape[1] == 0)
            throw new ArgumentException($"CrossEntropy: expected logits [N, C] or [N, C, d1, ...] with C > 0, received {logits.Shape}");
        int n = logits.Shape[0], classes = logits.Shape[1], positions = logits.Shape.Product(2, logits.Rank), count = n * positions;
        if (targets.Length != count)
            throw new ArgumentException($"CrossEntropy: logits {logits.Shape} need {count} targets (one per sample{(logits.Rank > 2 ? " and position" : "")}), received {targets.Length}");
        if (!(labelSmoothing >= 0f && labelSmoothing <= 1f))
            throw new ArgumentException($"CrossEntropy: labelSmoothing must be in [0, 1]. Received {labelSmoothing}");
        for (int i = 0; i < count; i++)
        {
            if ((uint)targets[i] >= (uint)classes)
                throw new ArgumentException($"CrossEntropy: target {targets[i]} at index {i} is out of range for {classes} classes (expected 0 ≤ target < {classes})");
        }

        var rows = new ClassRows(logits.Data, classes, positions);
        float[] logSumExp = TensorPool.Rent(count);
        var perSample = reduction == Reduction.None ? Tensor.Empty(RemoveClassAxis(logits.Shape)) : null;
        float[] losses = perSample?.Data ?? TensorPool.Rent(count);
        float smoothing = labelSmoothing;
        Parallelism.For(count, (start, end) =>
        {
            float[] scratch = TensorPool.Rent(2 * classes);
            for (int j = start; j < end; j++)
            {
                var row = rows.Read(j, scratch.AsSpan(0, classes));
                var shifted = scratch.AsSpan(classes, classes);
                float max = TensorPrimitives.Max(row);
                TensorPrimitives.Subtract(row, max, shifted);
                TensorPrimitives.Exp(shifted, shifted);
                float lse = max + MathF.Log(TensorPrimitives.Sum(shifted));
                logSumExp[j] = lse;
                // −Σ_c q_c·log p_c with log p_c = x_c − lse and Σ_c q_c = 1.
                float expectedLogit = (1f - smoothing) * row[targets[j]] + (smoothing > 0f ? smoothing / classes * TensorPrimitives.Sum(row) : 0f);
                losses[j] = lse - expectedLogit;
            }
            TensorPool.Return(scratch);
        }, Math.Max(1, ElementwiseGrain / classes));

        Tensor y;
        if (perSample is not null) y = perSample;
        else
        {
            y = Tensor.Scalar(reduction == Reduction.Sum ? OrderedSum(losses, count) : OrderedSum(losses, count) / count);
            TensorPool.Return(losses);
        }

        return Autograd.Record(y, "CrossEntropy", [logits], dy =>
        {
            float[] g = dy.Data, gx = GradData(logits);
            var gradRows = new ClassRows(gx, classes, positions);
            float uniform = smoothing / classes;
            Parallelism.For(count, (start, end) =>
            {
                float[] scratch = TensorPool.Rent(2 * classes);
                for (int j = start; j < end; j++)
                {
                    float scale = reduction switch { Reduction.None => g[j], Reduction.Sum => g[0], _ => g[0] / count };
                    var row = rows.Read(j, scratch.AsSpan(0, classes));
                    var delta = scratch.AsSpan(classes, classes);
                    TensorPrimitives.Subtract(row, logSumExp[j], delta);
                    TensorPrimitives.Exp(delta, delta);
                    TensorPrimitives.Subtract(delta, uniform, delta);
                    delta[targets[j]] -= 1f - smoothing;
                    TensorPrimitives.Multiply(delta, scale, delta);
                    gradRows.Add(j, delta);
                }
                TensorPool.Return(scratch);
            }, Math.Max(1, ElementwiseGrain / classes));
        }, release: () => TensorPool.Return(logSumExp));
    }

    /// <summary>
    /// The C class scores of sample j in logits [N, C, positions]: a contiguous row when there is one
    /// position, otherwise gathered (stride = positions) so the same vectorised code handles both.
    /// </summary>
    private readonly struct ClassRows(float[] data, int classes, int positions)
    {
        private int Start(int j) => j / positions * classes * positions + j % positions;

        public ReadOnlySpan<float> Read(int j, Span<float> scratch)
        {
            if (positions == 1) return data.AsSpan(j * classes, classes);
            int start = Start(j);
            for (int c = 0; c < classes; c++) scratch[c] = data[start + c * positions];
            return scratch;
        }

        public void Add(int j, ReadOnlySpan<float> values)
        {
            if (positions == 1)
            {
                var row = data.AsSpan(j * classes, classes);
                TensorPrimitives.Add(row, values, row);
                return;
            }
            int start = Start(j);
            for (int c = 0; c < classes; c++) data[start + c * positions] += values[c];
        }
    }

    private static TensorShape RemoveClassAxis(TensorShape shape)
    {
        var dims = shape.ToArray().ToList();
        dims.RemoveAt(1);
        return new TensorShape([.. dims]);
    }

    /// <summary>A sum in index order, in double: the same bits whatever the thread count.</summary>
    private static float OrderedSum(float[] values, int count)
    {
        double sum = 0;
        for (int i = 0; i < count; i++) sum += values[i];
        return (float)sum;
    }

    /// <summary>Mean squared error (input − target)², reduced; gradients flow to both input and target.</summary>
    public static Tensor Mse(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        if (input.Shape != target.Shape)
            throw new ArgumentException($"Mse: input {input.Shape} and target {target.Shape} must have the same shape");
        int count = input.Length;
        float[] diff = TensorPool.Rent(count);
        TensorPrimitives.Subtract(input.Span, target.Span, diff.AsSpan(0, count));
        Tensor y;
        if (reduction == Reduction.None)
        {
            y = Tensor.Empty(input.Shape);
            TensorPrimitives.Multiply(diff.AsSpan(0, count), diff.AsSpan(0, count), y.Span);
        }
        else
        {
            float sum = TensorPrimitives.SumOfSquares(diff.AsSpan(0, count));
            y = Tensor.Scalar(reduction == Reduction.Sum ? sum : sum / count);
        }
        // diff is kept for backward: d/dx (x − t)² = 2(x − t) = −d/dt.
        return Autograd.Record(y, "Mse", [input, target], dy =>
        {
            var d = diff.AsSpan(0, count);
            float[]? weighted = null;
            if (reduction == Reduction.None)
            {
                weighted = TensorPool.Rent(count);
                TensorPrimitives.Multiply(d, dy.Span, weighted.AsSpan(0, count));
                d = weighted.AsSpan(0, count);
            }
            float scale = 2f * (reduction switch { Reduction.None => 1f, Reduction.Sum => dy.Span[0], _ => dy.Span[0] / count });
            if (input.RequiresGrad) TensorPrimitives.MultiplyAdd(d, scale, input.GradSpan, input.GradSpan);
            if (target.RequiresGrad) TensorPrimitives.MultiplyAdd(d, -scale, target.GradSpan, target.GradSpan);
            if (weighted is not null) TensorPool.Return(weighted);
        }, release: () => TensorPool.Return(diff));
    }
}
