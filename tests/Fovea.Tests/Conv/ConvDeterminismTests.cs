using Fovea.Tests.Support;

namespace Fovea.Tests.Conv;

/// <summary>
/// Same inputs and thread count give the same bits, gradients included (the reductions over the batch and
/// over positions go through per-chunk partials added in chunk order).
/// </summary>
public class ConvDeterminismTests
{
    [Theory]
    [InlineData("conv")]
    [InlineData("grouped conv")]
    [InlineData("pointwise conv")]
    [InlineData("locally connected")]
    public void TwoThreadsGiveTheSameBitsTwiceAndAgreeWithOne(string op)
    {
        Tensor[] first, second, single;
        using (Parallelism.UseThreads(2))
        {
            first = Run(op);
            second = Run(op);
        }
        for (int i = 0; i < first.Length; i++) TensorAssert.Equal(first[i], second[i], $"{op}: result {i}");
        using (Parallelism.UseThreads(1)) single = Run(op);
        for (int i = 0; i < first.Length; i++) TensorAssert.Close(single[i], first[i], 1e-5, 1e-5, $"{op}: result {i}, 1 vs 2 threads");
    }

    /// <summary>Output, then the gradients of x, weight and bias.</summary>
    private static Tensor[] Run(string op)
    {
        var rng = new Rng(5);
        var x = Tensor.Normal(new TensorShape(5, 4, 9, 7), 0, 1, rng);
        var (weightShape, biasShape) = op switch
        {
            "conv" => (new TensorShape(6, 4, 3, 3), new TensorShape(6)),
            "grouped conv" => (new TensorShape(6, 2, 3, 2), new TensorShape(6)),
            "pointwise conv" => (new TensorShape(6, 4, 1, 1), new TensorShape(6)),
            _ => (new TensorShape(9 * 7, 6, 36), new TensorShape(6, 9, 7)),
        };
        var w = Tensor.Normal(weightShape, 0, 1, rng);
        var b = Tensor.Normal(biasShape, 0, 1, rng);
        foreach (var t in new[] { x, w, b }) t.RequiresGrad = true;
        var y = op switch
        {
            "conv" => F.Conv2d(x, w, b, stride: 1, padding: 1),
            "grouped conv" => F.Conv2d(x, w, b, (2, 1), (1, 0), (1, 2), groups: 2),
            "pointwise conv" => F.Conv2d(x, w, b),
            _ => F.LocallyConnected2d(x, w, b, 3, padding: 1),
        };
        y.Backward(Tensor.Normal(y.Shape, 0, 1, rng));
        return [y, x.Grad!, w.Grad!, b.Grad!];
    }
}
