using System.Numerics.Tensors;

namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// Element-wise activations. Those F has (Relu, LeakyRelu, Elu, Sigmoid, Tanh, and Selu and PRelu built
/// from them) stay differentiable, so an imported graph can be fine-tuned; HardSigmoid, HardSwish and
/// Clip are inference-only kernels.
/// </summary>
internal static class ActivationOps
{
    [OnnxOp("Relu")]
    public static OnnxKernel Relu(OnnxNodeContext node) => Unary(F.Relu);

    [OnnxOp("Sigmoid")]
    public static OnnxKernel Sigmoid(OnnxNodeContext node) => Unary(F.Sigmoid);

    [OnnxOp("Tanh")]
    public static OnnxKernel Tanh(OnnxNodeContext node) => Unary(F.Tanh);

    [OnnxOp("LeakyRelu")]
    public static OnnxKernel LeakyRelu(OnnxNodeContext node)
    {
        float alpha = node.Float("alpha", 0.01f);
        return Unary(x => F.LeakyRelu(x, alpha));
    }

    [OnnxOp("Elu")]
    public static OnnxKernel Elu(OnnxNodeContext node)
    {
        float alpha = node.Float("alpha", 1f);
        return Unary(x => F.Elu(x, alpha));
    }

    /// <summary>γ·elu(x, α): the defaults are the self-normalising constants of Klambauer et al., as float32.</summary>
    [OnnxOp("Selu")]
    public static OnnxKernel Selu(OnnxNodeContext node)
    {
        float alpha = node.Float("alpha", 1.67326319217681884765625f), gamma = node.Float("gamma", 1.05070102214813232421875f);
        return Unary(x =>
        {
            var elu = F.Elu(x, alpha);
            return Temporaries.Release(F.Mul(elu, gamma), [x], elu);
        });
    }

    [OnnxOp("HardSigmoid")]
    public static OnnxKernel HardSigmoid(OnnxNodeContext node)
    {
        float alpha = node.Float("alpha", 0.2f), beta = node.Float("beta", 0.5f);
        return Unary(x =>
        {
            var y = Tensor.Empty(x.Shape);
            HardSigmoidInto(x.Span, alpha, beta, y.Span);
            return y;
        });
    }

    /// <summary>x · hardsigmoid(x) with α = 1/6, β = 1/2.</summary>
    [OnnxOp("HardSwish")]
    public static OnnxKernel HardSwish(OnnxNodeContext node) => Unary(x =>
    {
        var y = Tensor.Empty(x.Shape);
        HardSigmoidInto(x.Span, 1f / 6f, 0.5f, y.Span);
        TensorPrimitives.Multiply(x.Span, y.Span, y.Span);
        return y;
    });

    /// <summary>
    /// max(x, 0) + slope · min(x, 0), from differentiable ops so the slope stays trainable. The slope
    /// broadcasts to the input one way; a per-channel [C] slope of an [N, C, …] input is read as [C, 1, …],
    /// which is what opset 6 (before broadcasting existed) meant by it.
    /// </summary>
    [OnnxOp("PRelu")]
    public static OnnxKernel PRelu(OnnxNodeContext node) => inputs =>
    {
        Tensor x = inputs[0]!.FloatData("input X"), given = inputs[1]!.FloatData("slope");
        var slope = ChannelSlope(x, given, node.Opset);
        var positive = F.Relu(x);
        var negative = F.Sub(x, positive);
        var scaled = F.Mul(negative, slope);
        return [OnnxValue.Float(Temporaries.Release(F.Add(positive, scaled), [x, given], slope, positive, negative, scaled))];
    };

    private static Tensor ChannelSlope(Tensor x, Tensor slope, long opset)
    {
        var dims = x.Shape.AsSpan();
        bool perChannel = x.Rank > 2 && slope.Rank == 1 && slope.Length > 1 && slope.Length == dims[1];
        if (perChannel && (opset < 7 || !Broadcasting.Reaches(slope.Shape.AsSpan(), dims)))
            return F.Reshape(slope, [slope.Length, .. Enumerable.Repeat(1, x.Rank - 2)]);
        if (Broadcasting.Reaches(slope.Shape.AsSpan(), dims)) return slope;
        throw new ArgumentException($"slope {slope.Shape} does not broadcast to input {x.Shape}");
    }

    /// <summary>
    /// min(max(x, min), max). Before opset 11 the bounds are attributes (floats only); from 11 they are
    /// optional scalar inputs of the input's type, so integer tensors clip too.
    /// </summary>
    [OnnxOp("Clip")]
    public static OnnxKernel Clip(OnnxNodeContext node)
    {
        if (node.Opset < 11)
        {
            float min = node.Float("min", float.NegativeInfinity), max = node.Float("max", float.PositiveInfinity);
            return Unary(x => ClipFloats(x, min, max));
        }
        return inputs =>
        {
            var x = inputs[0]!;
            var min = Bound(x, inputs.ElementAtOrDefault(1), "min");
            var max = Bound(x, inputs.ElementAtOrDefault(2), "max");
            if (x.IsFloat)
                return [OnnxValue.Float(ClipFloats(x.Floats!, min?.Floats!.Span[0] ?? float.NegativeInfinity, max?.Floats!.Span[0] ?? float.PositiveInfinity))];
            long low = min?.Integers![0] ?? long.MinValue, high = max?.Integers![0] ?? long.MaxValue;
            return [OnnxValue.Integer(x.Type, x.Integers!.Select(v => Math.Min(Math.Max(v, low), high)).ToArray(), x.Dims)];
        };
    }

    /// <summary>A Clip bound input: absent, or one value of the input's type.</summary>
    private static OnnxValue? Bound(OnnxValue x, OnnxValue? bound, string name)
    {
        if (bound is null) return null;
        if (bound.Type != x.Type || bound.Length != 1)
            throw new ArgumentException($"{name} must be a single {OnnxDataTypes.Name(x.Type)} value like the input, received {bound}");
        return bound;
    }

    private static Tensor ClipFloats(Tensor x, float min, float max)
    {
        var y = Tensor.Empty(x.Shape);
        Clip(x.Span, min, max, y.Span);
        return y;
    }

    /// <summary>Clip's float rule, max with the lower bound then min with the upper (NaN propagates); the Clip op and a Conv with a merged Clip share it. <paramref name="y"/> may be <paramref name="x"/>.</summary>
    public static void Clip(ReadOnlySpan<float> x, float min, float max, Span<float> y)
    {
        TensorPrimitives.Max(x, min, y);
        TensorPrimitives.Min(y, max, y);
    }

    private static void HardSigmoidInto(ReadOnlySpan<float> x, float alpha, float beta, Span<float> y)
    {
        TensorPrimitives.Multiply(x, alpha, y);
        TensorPrimitives.Add(y, beta, y);
        TensorPrimitives.Max(y, 0f, y);
        TensorPrimitives.Min(y, 1f, y);
    }

    /// <summary>A kernel applying <paramref name="f"/> to the node's one float input.</summary>
    private static OnnxKernel Unary(Func<Tensor, Tensor> f) => inputs => [OnnxValue.Float(f(inputs[0]!.FloatData("input")))];
}
