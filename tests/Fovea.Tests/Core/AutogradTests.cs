using Fovea;
using Fovea.Tests.Support;

namespace Fovea.Tests.Core;

public class AutogradTests
{
    private static Tensor Leaf(params float[] values)
    {
        var t = Tensor.FromArray(values, values.Length);
        t.RequiresGrad = true;
        return t;
    }

    [Fact]
    public void GradientsAccumulateAcrossBackwardCallsUntilZeroed()
    {
        var x = Leaf(1, -2, 3);
        F.Sum(F.Relu(x)).Backward();
        F.Sum(F.Relu(x)).Backward();
        Assert.Equal([2f, 0f, 2f], x.Grad!.ToArray());
        x.ZeroGrad();
        Assert.Equal([0f, 0f, 0f], x.Grad!.ToArray());
    }

    [Fact]
    public void ATensorUsedTwiceReceivesBothContributions()
    {
        var w = Tensor.FromArray([2f], 1, 1);
        w.RequiresGrad = true;
        var x = Tensor.FromArray([3f], 1, 1);
        var h = F.Linear(x, w);          // 6
        var y = F.Linear(h, w);          // 12 = w²x: dy/dw = 2wx = 12
        F.Sum(y).Backward();
        Assert.Equal(12f, w.Grad!.Item());
    }

    [Fact]
    public void NoGradScopeRecordsNothing()
    {
        var x = Leaf(1, 2);
        using (Autograd.NoGrad())
        {
            var y = F.Relu(x);
            Assert.False(y.RequiresGrad);
            Assert.True(y.IsLeaf);
        }
        Assert.True(F.Relu(x).RequiresGrad);
    }

    [Fact]
    public void SecondBackwardThroughAFreedGraphThrowsUnlessRetained()
    {
        var x = Leaf(1, 2);
        var loss = F.Sum(F.Relu(x));
        loss.Backward(retainGraph: true);
        loss.Backward();
        Assert.Equal([2f, 2f], x.Grad!.ToArray());
        var e = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("second time", e.Message);
    }

    [Fact]
    public void BackwardOnANonScalarNeedsAGradient()
    {
        var y = F.Relu(Leaf(1, 2));
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("[2]", e.Message);
        y.Backward(Tensor.FromArray([5f, 7f], 2));
    }

    [Fact]
    public void IntermediateGradientsAreNotKept()
    {
        var x = Leaf(1, 2);
        var h = F.Relu(x);
        F.Sum(h).Backward();
        Assert.Null(h.Grad);
        Assert.NotNull(x.Grad);
    }

    [Fact]
    public void DetachCutsTheTape()
    {
        var x = Leaf(1, 2);
        var d = F.Relu(x).Detach();
        Assert.False(d.RequiresGrad);
        Assert.Throws<InvalidOperationException>(() => F.Sum(d).Backward());
    }

    [Fact]
    public void DeepChainsDoNotOverflowTheStack()
    {
        var x = Leaf(1);
        var y = x;
        for (int i = 0; i < 20_000; i++) y = F.Relu(y);
        F.Sum(y).Backward();
        Assert.Equal(1f, x.Grad!.Item());
    }
}

public class DisposeGraphTests
{
    [Fact]
    public void DisposesIntermediatesButKeepsLeaves()
    {
        var w = Tensor.FromArray([2f], 1, 1);
        w.RequiresGrad = true;
        var x = Tensor.FromArray([3f], 1, 1);
        var h = F.Linear(x, w);
        var loss = F.Sum(F.Relu(h));
        loss.Backward();
        loss.DisposeGraph();
        Assert.Throws<ObjectDisposedException>(() => h.Span[0]);
        Assert.Throws<ObjectDisposedException>(() => loss.Span[0]);
        Assert.Equal(3f, w.Grad!.Item());
        Assert.Equal(2f, w.Item());
        Assert.Equal(3f, x.Item());
    }
}
