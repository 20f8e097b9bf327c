namespace Fovea;

public static partial class F
{
    /// <summary>max(x, 0).</summary>
    public static Tensor Relu(Tensor x)
    {
        var y = Tensor.Empty(x.Shape);
        System.Numerics.Tensors.TensorPrimitives.Max(x.Span, 0f, y.Span);
        return Autograd.Record(y, "Relu", [x], dy =>
        {
            var gx = x.GradSpan;
            var ys = y.Span;
            var g = dy.Span;
            for (int i = 0; i < gx.Length; i++) if (ys[i] > 0f) gx[i] += g[i];
        });
    }
}
