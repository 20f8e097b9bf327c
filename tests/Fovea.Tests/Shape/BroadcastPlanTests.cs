using Fovea;
using Fovea.Kernels;
using Fovea.Tests.Support;

namespace Fovea.Tests.Shape;

/// <summary>The merged-run broadcast kernel against index-by-index broadcasting.</summary>
public class BroadcastPlanTests
{
    public static TheoryData<int[], int[]> Shapes => new()
    {
        { [2, 3, 4, 5], [3, 1, 1] },
        { [1, 3, 1, 1], [5, 3, 7, 2] },
        { [2, 1, 5], [1, 4, 1] },
        { [3, 1, 4, 1, 2], [1, 5, 1, 6, 2] },
        { [7], [3, 1] },
        { [], [2, 3] },
        { [4, 5], [4, 5] },
        { [1, 1], [1] },
        { [2, 0, 3], [1, 3] },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ApplyAndReduceMatchNaiveIndexing(int[] aShape, int[] bShape)
    {
        var plan = BroadcastPlan.TryCreate(aShape, bShape)!;
        var rng = new Rng(9);
        var a = Tensor.Normal(new TensorShape(aShape), 0, 1, rng).ToArray();
        var b = Tensor.Normal(new TensorShape(bShape), 0, 1, rng).ToArray();
        var outShape = plan.OutputShape;
        int n = new TensorShape(outShape).Length;
        var g = Tensor.Normal(new TensorShape(outShape), 0, 1, rng).ToArray();

        var y = new float[n];
        plan.Apply<SubtractOp>(a, b, y);
        var ga = new float[a.Length];
        var gb = new float[b.Length];
        plan.Reduce(g, ga, BroadcastPlan.Operand.A);
        plan.ReduceProduct(g, a, gb, BroadcastPlan.Operand.B);

        var expectedY = new float[n];
        var expectedGa = new float[a.Length];
        var expectedGb = new float[b.Length];
        for (int i = 0; i < n; i++)
        {
            int ai = SourceIndex(i, outShape, aShape), bi = SourceIndex(i, outShape, bShape);
            expectedY[i] = a[ai] - b[bi];
            expectedGa[ai] += g[i];
            expectedGb[bi] += g[i] * a[ai];
        }
        Assert.Equal(expectedY, y);
        TensorAssert.Close(expectedGa, ga, 1e-5, 1e-6, "reduce to a");
        TensorAssert.Close(expectedGb, gb, 1e-5, 1e-6, "reduce product to b");
    }

    [Fact]
    public void PerChannelOperandBecomesOneRepeatedValuePerPlane()
    {
        var plan = BroadcastPlan.TryCreate([8, 16, 5, 5], [1, 16, 1, 1])!;
        Assert.Equal(25, plan.Inner);
        Assert.True(plan.AVaries);
        Assert.False(plan.BVaries);
        Assert.Equal(200, BroadcastPlan.TryCreate([8, 5, 5], [8, 5, 5])!.Inner);
        Assert.Null(BroadcastPlan.TryCreate([2, 3], [3, 2]));
    }

    /// <summary>Where output element <paramref name="flat"/> reads from an operand of shape <paramref name="shape"/>.</summary>
    private static int SourceIndex(int flat, int[] outShape, int[] shape)
    {
        int index = 0, stride = 1;
        for (int d = outShape.Length - 1, s = shape.Length - 1; d >= 0; d--, s--)
        {
            int i = flat % outShape[d];
            flat /= outShape[d];
            if (s < 0) continue;
            if (shape[s] != 1) index += i * stride;
            stride *= shape[s];
        }
        return index;
    }
}
