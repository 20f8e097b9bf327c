using System.Numerics.Tensors;

namespace Fovea;

public static partial class F
{
    /// <summary>Sum of all elements, as a scalar.</summary>
    public static Tensor Sum(Tensor x)
    {
        var y = Tensor.Scalar(TensorPrimitives.Sum(x.Span));
        return Autograd.Record(y, "Sum", [x], dy =>
        {
            var gx = x.GradSpan;
            TensorPrimitives.Add(gx, dy.Span[0], gx);
        });
    }

    /// <summary>Mean of all elements, as a scalar.</summary>
    public static Tensor Mean(Tensor x)
    {
        if (x.Length == 0) throw new ArgumentException($"Mean of an empty tensor {x.Shape}.");
        var y = Tensor.Scalar(TensorPrimitives.Sum(x.Span) / x.Length);
        return Autograd.Record(y, "Mean", [x], dy =>
        {
            var gx = x.GradSpan;
            TensorPrimitives.Add(gx, dy.Span[0] / x.Length, gx);
        });
    }
}
