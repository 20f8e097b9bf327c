using System.Numerics;
using System.Numerics.Tensors;

namespace Fovea;

public static partial class F
{
    /// <summary>
    /// Inverted dropout: in training each element is zeroed with probability <paramref name="p"/> and the
    /// survivors are scaled by 1/(1 − p), so inference needs no rescaling. With p = 0 or outside training
    /// the input itself is returned; with p = 1 the output is all zeros. The mask comes from
    /// <paramref name="rng"/>, one draw per element in order, so the same seed gives the same mask.
    /// </summary>
    public static Tensor Dropout(Tensor x, float p, bool training, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (!(p >= 0f && p <= 1f)) throw new ArgumentException($"Dropout: p must be in [0, 1]. Received {p}");
        if (!training || p == 0f) return x;

        int count = x.Length;
        // The mask stores the factor each element is multiplied by (0 or 1/(1 − p)): forward and backward
        // are then the same product.
        float[] mask = TensorPool.Rent(count);
        float keptScale = p == 1f ? 0f : 1f / (1f - p);
        // The draws in one pass, then the factors by vector selects: the branch on each draw mispredicted half the time.
        var factors = mask.AsSpan(0, count);
        rng.NextFloats(factors);
        int i = 0;
        for (var threshold = new Vector<float>(p); i <= count - Vector<float>.Count; i += Vector<float>.Count)
        {
            var draws = new Vector<float>(factors[i..]);
            Vector.ConditionalSelect(Vector.GreaterThanOrEqual(draws, threshold), new Vector<float>(keptScale), Vector<float>.Zero).CopyTo(factors[i..]);
        }
        for (; i < count; i++) factors[i] = factors[i] >= p ? keptScale : 0f;
        var y = Tensor.Empty(x.Shape);
        TensorPrimitives.Multiply(x.Span, mask.AsSpan(0, count), y.Span);
        return Autograd.Record(y, "Dropout", [x], dy =>
        {
            var gx = Autograd.GradientStorage(x, out bool overwrite).AsSpan(0, count);
            if (overwrite) TensorPrimitives.Multiply(dy.Span, mask.AsSpan(0, count), gx);
            else TensorPrimitives.MultiplyAdd(dy.Span, mask.AsSpan(0, count), gx, gx);
        }, release: () => TensorPool.Return(mask));
    }
}
