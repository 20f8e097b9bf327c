using System.Numerics.Tensors;
using Fovea.Kernels;
using static Fovea.Kernels.BroadcastPlan;

namespace Fovea;

public static partial class F
{
    /// <summary>a + b with NumPy/PyTorch broadcasting (shapes aligned on the right, size-1 dimensions repeated).</summary>
    public static Tensor Add(Tensor a, Tensor b)
    {
        var plan = PlanBroadcast("Add", a, b);
        var y = Tensor.Empty(plan.OutputShape);
        plan.Apply<AddOp>(a.Span, b.Span, y.Span);
        return Autograd.Record(y, "Add", [a, b], dy =>
        {
            if (a.RequiresGrad) plan.Reduce(dy.Span, a.GradSpan, Operand.A);
            if (b.RequiresGrad) plan.Reduce(dy.Span, b.GradSpan, Operand.B);
        });
    }

    /// <summary>a − b with broadcasting.</summary>
    public static Tensor Sub(Tensor a, Tensor b)
    {
        var plan = PlanBroadcast("Sub", a, b);
        var y = Tensor.Empty(plan.OutputShape);
        plan.Apply<SubtractOp>(a.Span, b.Span, y.Span);
        return Autograd.Record(y, "Sub", [a, b], dy =>
        {
            if (a.RequiresGrad) plan.Reduce(dy.Span, a.GradSpan, Operand.A);
            if (b.RequiresGrad) plan.Reduce(dy.Span, b.GradSpan, Operand.B, scale: -1f);
        });
    }

    /// <summary>a · b elementwise with broadcasting.</summary>
    public static Tensor Mul(Tensor a, Tensor b)
    {
        var plan = PlanBroadcast("Mul", a, b);
        var y = Tensor.Empty(plan.OutputShape);
        plan.Apply<MultiplyOp>(a.Span, b.Span, y.Span);
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
        plan.Apply<DivideOp>(a.Span, b.Span, y.Span);
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

    private static BroadcastPlan PlanBroadcast(string op, Tensor a, Tensor b) =>
        TryCreate(a.Shape.AsSpan(), b.Shape.AsSpan())
        ?? throw new ArgumentException($"{op}: shapes {a.Shape} and {b.Shape} do not broadcast (each dimension, aligned from the right, must match or be 1)");
}
