using System.Numerics;
using System.Numerics.Tensors;

namespace Fovea;

public static partial class F
{
    /// <summary>
    /// Elements per chunk below which splitting element-wise work across cores costs more than it saves.
    /// </summary>
    internal const int ElementwiseGrain = 1 << 15;

    /// <summary>max(x, 0).</summary>
    public static Tensor Relu(Tensor x) => Pointwise(x, "Relu", new ReluOp());

    /// <summary><see cref="Relu"/>'s values written over <paramref name="x"/> (inference on an activation nothing else reads).</summary>
    internal static void ReluInPlace(Tensor x)
    {
        float[] xs = x.Data;
        Elementwise(x.Length, (start, end) => new ReluOp().Forward(xs.AsSpan(start, end - start), xs.AsSpan(start, end - start)));
    }

    /// <summary>x where x &gt; 0, otherwise <paramref name="negativeSlope"/>·x.</summary>
    public static Tensor LeakyRelu(Tensor x, float negativeSlope = 0.01f) => Pointwise(x, "LeakyRelu", new LeakyReluOp(negativeSlope));

    /// <summary>x where x &gt; 0, otherwise <paramref name="alpha"/>·(eˣ − 1).</summary>
    public static Tensor Elu(Tensor x, float alpha = 1f) => Pointwise(x, "Elu", new EluOp(alpha));

    /// <summary>1 / (1 + e⁻ˣ).</summary>
    public static Tensor Sigmoid(Tensor x) => Pointwise(x, "Sigmoid", new SigmoidOp());

    /// <summary>Hyperbolic tangent.</summary>
    public static Tensor Tanh(Tensor x) => Pointwise(x, "Tanh", new TanhOp());

    /// <summary>
    /// Runs <paramref name="kernel"/>(start, end) over [0, <paramref name="length"/>) in contiguous chunks.
    /// Element-wise work has no reduction across elements, so the split cannot change any bit of the result.
    /// </summary>
    internal static void Elementwise(int length, Action<int, int> kernel) => Parallelism.For(length, kernel, ElementwiseGrain);

    /// <summary>The gradient buffer as an array, for kernels split across threads (a Span cannot be captured).</summary>
    internal static float[] GradData(Tensor t)
    {
        _ = t.GradSpan;
        return t.Grad!.Data;
    }

    /// <summary>
    /// An element-wise activation: a vectorised forward over spans, and its derivative from the input
    /// x, the output y and the upstream gradient dy (whichever of x and y makes it cheapest).
    /// </summary>
    private interface IActivation
    {
        void Forward(ReadOnlySpan<float> x, Span<float> y);
        float Backward(float x, float y, float dy);
        Vector<float> Backward(Vector<float> x, Vector<float> y, Vector<float> dy);
    }

    // Generic over a struct so the JIT specialises and inlines each activation into the loops.
    private static Tensor Pointwise<TOp>(Tensor x, string name, TOp op) where TOp : struct, IActivation
    {
        var y = Tensor.Empty(x.Shape);
        float[] xs = x.Data, ys = y.Data;
        Elementwise(x.Length, (start, end) => op.Forward(xs.AsSpan(start, end - start), ys.AsSpan(start, end - start)));
        return Autograd.Record(y, name, [x], dy =>
        {
            float[] g = dy.Data, gx = GradData(x);
            Elementwise(x.Length, (start, end) =>
            {
                int n = end - start;
                AccumulateBackward(op, xs.AsSpan(start, n), ys.AsSpan(start, n), g.AsSpan(start, n), gx.AsSpan(start, n));
            });
        });
    }

    private static void AccumulateBackward<TOp>(TOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> gx)
        where TOp : struct, IActivation
    {
        int i = 0, width = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= x.Length - width; i += width)
            {
                var sum = new Vector<float>(gx[i..]) + op.Backward(new Vector<float>(x[i..]), new Vector<float>(y[i..]), new Vector<float>(dy[i..]));
                sum.CopyTo(gx[i..]);
            }
        }
        for (; i < x.Length; i++) gx[i] += op.Backward(x[i], y[i], dy[i]);
    }

    /// <summary>y[i] = x[i] where x[i] &gt; 0, otherwise negative[i] (which may alias y).</summary>
    private static void SelectWherePositive(ReadOnlySpan<float> x, ReadOnlySpan<float> negative, Span<float> y)
    {
        int i = 0, width = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= x.Length - width; i += width)
            {
                var v = new Vector<float>(x[i..]);
                Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<float>.Zero), v, new Vector<float>(negative[i..])).CopyTo(y[i..]);
            }
        }
        for (; i < x.Length; i++) y[i] = x[i] > 0f ? x[i] : negative[i];
    }

    private readonly struct ReluOp : IActivation
    {
        public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Max(x, 0f, y);
        // PyTorch's rule: the gradient passes where the output is positive (zero at the kink).
        public float Backward(float x, float y, float dy) => y > 0f ? dy : 0f;
        public Vector<float> Backward(Vector<float> x, Vector<float> y, Vector<float> dy) =>
            Vector.ConditionalSelect(Vector.GreaterThan(y, Vector<float>.Zero), dy, Vector<float>.Zero);
    }

    private readonly struct LeakyReluOp(float slope) : IActivation
    {
        public void Forward(ReadOnlySpan<float> x, Span<float> y)
        {
            TensorPrimitives.Multiply(x, slope, y);
            SelectWherePositive(x, y, y);
        }
        public float Backward(float x, float y, float dy) => x > 0f ? dy : slope * dy;
        public Vector<float> Backward(Vector<float> x, Vector<float> y, Vector<float> dy) =>
            Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), dy, dy * slope);
    }

    private readonly struct EluOp(float alpha) : IActivation
    {
        public void Forward(ReadOnlySpan<float> x, Span<float> y)
        {
            TensorPrimitives.Exp(x, y);
            TensorPrimitives.Multiply(y, alpha, y);
            TensorPrimitives.Subtract(y, alpha, y);
            SelectWherePositive(x, y, y);
        }
        // d/dx α(eˣ − 1) = αeˣ = y + α on the negative side: no second exp.
        public float Backward(float x, float y, float dy) => x > 0f ? dy : dy * (y + alpha);
        public Vector<float> Backward(Vector<float> x, Vector<float> y, Vector<float> dy) =>
            Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), dy, dy * (y + new Vector<float>(alpha)));
    }

    private readonly struct SigmoidOp : IActivation
    {
        public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sigmoid(x, y);
        public float Backward(float x, float y, float dy) => dy * y * (1f - y);
        public Vector<float> Backward(Vector<float> x, Vector<float> y, Vector<float> dy) => dy * y * (Vector<float>.One - y);
    }

    private readonly struct TanhOp : IActivation
    {
        public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Tanh(x, y);
        public float Backward(float x, float y, float dy) => dy * (1f - y * y);
        public Vector<float> Backward(Vector<float> x, Vector<float> y, Vector<float> dy) => dy * (Vector<float>.One - y * y);
    }
}
