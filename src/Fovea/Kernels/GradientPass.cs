using System.Numerics;
using System.Numerics.Tensors;

namespace Fovea.Kernels;

/// <summary>
/// The backward of ops whose gradient is the incoming one passed through (add, reshape), possibly scaled
/// (subtract) or gated by a fused ReLU. When the target gradient held nothing yet it is stored rather than
/// added to zeros (see <see cref="Autograd.GradientStorage"/>).
/// </summary>
internal static class GradientPass
{
    /// <summary>
    /// g = scale·dy when <paramref name="overwrite"/>, else g += scale·dy. With a non-empty
    /// <paramref name="reluOutput"/>, dy passes only where that output is positive (ReLU's rule).
    /// </summary>
    public static void Pass(ReadOnlySpan<float> dy, ReadOnlySpan<float> reluOutput, Span<float> g, bool overwrite, float scale = 1f)
    {
        if (reluOutput.IsEmpty)
        {
            if (overwrite && scale == 1f) dy.CopyTo(g);
            else if (overwrite) TensorPrimitives.Multiply(dy, scale, g);
            else if (scale == 1f) TensorPrimitives.Add(g, dy, g);
            else TensorPrimitives.MultiplyAdd(dy, scale, g, g);
            return;
        }
        int i = 0, width = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            var vs = new Vector<float>(scale);
            for (; i <= dy.Length - width; i += width)
            {
                var passed = vs * Vector.ConditionalSelect(Vector.GreaterThan(new Vector<float>(reluOutput[i..]), Vector<float>.Zero), new Vector<float>(dy[i..]), Vector<float>.Zero);
                if (!overwrite) passed += new Vector<float>(g[i..]);
                passed.CopyTo(g[i..]);
            }
        }
        for (; i < dy.Length; i++)
        {
            float passed = scale * (reluOutput[i] > 0f ? dy[i] : 0f);
            g[i] = overwrite ? passed : g[i] + passed;
        }
    }
}
