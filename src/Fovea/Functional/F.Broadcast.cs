using System.Numerics.Tensors;
using Fovea.Kernels;
using static Fovea.Kernels.BroadcastPlan;

namespace Fovea;

public static partial class F
{
    /// <summary>a + b with NumPy/PyTorch broadcasting (shapes aligned on the right, size-1 dimensions repeated).</summary>
    public static Tensor Add(Tensor a, Tensor b) => AddOrSubtract(a, b, subtract: false);

    /// <summary>a − b with broadcasting.</summary>
    public static Tensor Sub(Tensor a, Tensor b) => AddOrSubtract(a, b, subtract: true);

    private static Tensor AddOrSubtract(Tensor a, Tensor b, bool subtract)
    {
        string name = subtract ? "Sub" : "Add";
        var plan = PlanBroadcast(name, a, b);
        var y = Tensor.Empty(plan.OutputShape);
        if (subtract) ApplyInParallel<SubtractOp>(plan, a, b, y);
        else ApplyInParallel<AddOp>(plan, a, b, y);
        return Autograd.Record(y, name, [a, b], dy =>
        {
            if (a.RequiresGrad) ReduceGradient(plan, dy, a, Operand.A, scale: 1f);
            if (b.RequiresGrad) ReduceGradient(plan, dy, b, Operand.B, scale: subtract ? -1f : 1f);
        });
    }

    /// <summary>
    /// ReLU(a + b) as one op (the end of a residual block): the sum is clamped while in cache and the backward
    /// gates dy by the output on the fly. Shapes that differ fall back to the two ops.
    /// </summary>
    internal static Tensor AddRelu(Tensor a, Tensor b)
    {
        if (a.Shape != b.Shape) return Relu(Add(a, b));
        var y = Tensor.Empty(a.Shape);
        float[] av = a.Data, bv = b.Data, yv = y.Data;
        Elementwise(y.Length, (start, end) =>
        {
            var run = yv.AsSpan(start, end - start);
            TensorPrimitives.Add(av.AsSpan(start, end - start), bv.AsSpan(start, end - start), run);
            TensorPrimitives.Max(run, 0f, run);
        });
        return Autograd.Record(y, "AddRelu", [a, b], dy =>
        {
            if (a.RequiresGrad) PassGradient(dy, y, a, scale: 1f);
            if (b.RequiresGrad) PassGradient(dy, y, b, scale: 1f);
        });
    }

    /// <summary>a · b elementwise with broadcasting.</summary>
    public static Tensor Mul(Tensor a, Tensor b)
    {
        var plan = PlanBroadcast("Mul", a, b);
        var y = Tensor.Empty(plan.OutputShape);
        ApplyInParallel<MultiplyOp>(plan, a, b, y);
        return Autograd.Record(y, "Mul", [a, b], dy =>
        {
            if (a.RequiresGrad) plan.ReduceProduct(dy.Span, b.Span, a.GradSpan, Operand.A);
            if (b.RequiresGrad) plan.ReduceProduct(dy.Span, a.Span, b.GradSpan, Operand.B);
        });
    }

    /// <summary>a / b elementwise with broadcasting.</summary>
    public static Tensor Div(Tensor a, Tensor b)
    {
        var plan = PlanBroadcast("Div", a, b);
        var y = Tensor.Empty(plan.OutputShape);
        ApplyInParallel<DivideOp>(plan, a, b, y);
        return Autograd.Record(y, "Div", [a, b], dy =>
        {
            // 1/b has b's (small, when broadcast) size; both gradients use it.
            float[] reciprocal = TensorPool.Rent(b.Length);
            var r = reciprocal.AsSpan(0, b.Length);
            TensorPrimitives.Divide(1f, b.Span, r);
            if (a.RequiresGrad) plan.ReduceProduct(dy.Span, r, a.GradSpan, Operand.A);
            if (b.RequiresGrad)
            {
                // d(a/b)/db = −y/b, so gb = −(1/b) · Σ dy·y over the positions each b element reached.
                float[] dyY = TensorPool.Rent(y.Length), sums = TensorPool.Rent(b.Length);
                TensorPrimitives.Multiply(dy.Span, y.Span, dyY.AsSpan(0, y.Length));
                var s = sums.AsSpan(0, b.Length);
                s.Clear();
                plan.Reduce(dyY.AsSpan(0, y.Length), s, Operand.B);
                TensorPrimitives.Multiply(s, r, s);
                var gb = b.GradSpan;
                TensorPrimitives.Subtract(gb, s, gb);
                TensorPool.Return(dyY);
                TensorPool.Return(sums);
            }
            TensorPool.Return(reciprocal);
        });
    }

    /// <summary>x + c for a constant c.</summary>
    public static Tensor Add(Tensor x, float c)
    {
        var y = Tensor.Empty(x.Shape);
        TensorPrimitives.Add(x.Span, c, y.Span);
        return Autograd.Record(y, "AddScalar", [x], dy =>
        {
            var gx = x.GradSpan;
            TensorPrimitives.Add(gx, dy.Span, gx);
        });
    }

    /// <summary>x · c for a constant c.</summary>
    public static Tensor Mul(Tensor x, float c)
    {
        var y = Tensor.Empty(x.Shape);
        TensorPrimitives.Multiply(x.Span, c, y.Span);
        return Autograd.Record(y, "MulScalar", [x], dy =>
        {
            var gx = x.GradSpan;
            TensorPrimitives.MultiplyAdd(dy.Span, c, gx, gx);
        });
    }

    /// <summary>y = a ⊙ b over contiguous output chunks on all threads (elementwise: the split changes no bit).</summary>
    private static void ApplyInParallel<TOp>(BroadcastPlan plan, Tensor a, Tensor b, Tensor y) where TOp : IBinaryOp
    {
        float[] av = a.Data, bv = b.Data, yv = y.Data;
        int aLength = a.Length, bLength = b.Length, yLength = y.Length;
        Elementwise(yLength, (start, end) => plan.ApplyRange<TOp>(av.AsSpan(0, aLength), bv.AsSpan(0, bLength), yv.AsSpan(0, yLength), start, end));
    }

    /// <summary>
    /// operand.grad += scale · dy summed over the dimensions in which the operand is broadcast. An operand as
    /// large as the output receives dy element for element, on all threads and stored when its gradient is new;
    /// a broadcast one sums many outputs into each element, in a fixed order on one thread.
    /// </summary>
    private static void ReduceGradient(BroadcastPlan plan, Tensor dy, Tensor operand, Operand which, float scale)
    {
        if (operand.Length == dy.Length) PassGradient(dy, null, operand, scale);
        else plan.Reduce(dy.Span, operand.GradSpan, which, scale);
    }

    /// <summary>target.grad (= or +=) scale · dy, gated by a fused ReLU's output when given; same shapes.</summary>
    private static void PassGradient(Tensor dy, Tensor? reluOutput, Tensor target, float scale)
    {
        float[] g = Autograd.GradientStorage(target, out bool overwrite), d = dy.Data;
        float[]? gate = reluOutput?.Data;
        Elementwise(target.Length, (start, end) =>
            GradientPass.Pass(d.AsSpan(start, end - start), gate is null ? default : gate.AsSpan(start, end - start), g.AsSpan(start, end - start), overwrite, scale));
    }

    private static BroadcastPlan PlanBroadcast(string op, Tensor a, Tensor b) =>
        TryCreate(a.Shape.AsSpan(), b.Shape.AsSpan())
        ?? throw new ArgumentException($"{op}: shapes {a.Shape} and {b.Shape} do not broadcast (each dimension, aligned from the right, must match or be 1)");
}
