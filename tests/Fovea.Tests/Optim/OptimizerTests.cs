using Fovea.Nn;
using Fovea.Optim;
using Fovea.Tests.Support;

namespace Fovea.Tests.Optim;

public class OptimizerTests
{
    public static TheoryData<string> Cases => OptimFixture.Names("optimizers");

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorchTrajectory(string name)
    {
        var c = OptimFixture.Optimizer(name);
        var parameters = OptimFixture.Tensors(c["initial"]!).Select(Parameter.From).ToArray();
        var optimizer = OptimFixture.MakeOptimizer(c["type"]!.GetValue<string>(), c["args"]!.AsObject(), parameters);
        var grads = c["grads"]!.AsArray();
        var after = c["after"]!.AsArray();
        for (int step = 0; step < grads.Count; step++)
        {
            var g = OptimFixture.Tensors(grads[step]!);
            for (int k = 0; k < parameters.Length; k++) parameters[k].Grad = g[k];
            optimizer.Step();
            var expected = OptimFixture.Tensors(after[step]!);
            for (int k = 0; k < parameters.Length; k++)
                TensorAssert.Close(expected[k], parameters[k], rtol: 1e-5, atol: 1e-6, $"{name}: parameter {k} after step {step + 1}");
        }
    }

    [Fact]
    public void ZeroGradZeroesEveryGradientInPlace()
    {
        var (p, q) = (Parameter.From(Tensor.Ones(2, 3)), Parameter.From(Tensor.Ones(4)));
        p.Grad = Tensor.Full(p.Shape, 3f);
        var buffer = p.Grad;
        var optimizer = new SGD([p, q], lr: 0.1);
        optimizer.ZeroGrad();
        Assert.Same(buffer, p.Grad);
        Assert.All(p.Grad.ToArray(), v => Assert.Equal(0f, v));
        Assert.Null(q.Grad);
    }

    [Fact]
    public void SkipsParametersWithoutGradient()
    {
        var (p, q) = (Parameter.From(Tensor.Ones(3)), Parameter.From(Tensor.Ones(2)));
        p.Grad = Tensor.Full(p.Shape, 2f);
        var optimizer = new Adam([p, q], lr: 0.1, weightDecay: 0.5);
        optimizer.Step();
        Assert.All(q.ToArray(), v => Assert.Equal(1f, v));
        Assert.All(p.ToArray(), v => Assert.NotEqual(1f, v));
        Assert.DoesNotContain(optimizer.StateDict().Tensors.Keys, k => k.StartsWith("state.1."));
    }

    [Fact]
    public void SteadyStateStepAllocatesNothing()
    {
        var parameters = new[] { Parameter.From(Tensor.Ones(64, 33)), Parameter.From(Tensor.Ones(33)) };
        foreach (var p in parameters) p.Grad = Tensor.Full(p.Shape, 0.5f);
        foreach (var optimizer in new Optimizer[] { new SGD(parameters, 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true), new AdamW(parameters, amsgrad: true) })
        {
            for (int i = 0; i < 3; i++) optimizer.Step();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) optimizer.Step();
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [Fact]
    public void MisuseThrowsNamingTheOptimizer()
    {
        Parameter[] ps = [Parameter.From(Tensor.Ones(2))];
        Assert.Contains("SGD: the learning rate", Assert.Throws<ArgumentException>(() => new SGD(ps, lr: -0.1)).Message);
        Assert.Contains("Adam: the learning rate", Assert.Throws<ArgumentException>(() => new Adam(ps, lr: double.NaN)).Message);
        Assert.Contains("Nesterov", Assert.Throws<ArgumentException>(() => new SGD(ps, lr: 0.1, nesterov: true)).Message);
        Assert.Contains("dampening 0.1", Assert.Throws<ArgumentException>(() => new SGD(ps, lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true)).Message);
        Assert.Contains("momentum", Assert.Throws<ArgumentException>(() => new SGD(ps, lr: 0.1, momentum: -0.5)).Message);
        Assert.Contains("AdamW: betas", Assert.Throws<ArgumentException>(() => new AdamW(ps, beta2: 1.0)).Message);
        Assert.Contains("weight decay", Assert.Throws<ArgumentException>(() => new Adam(ps, weightDecay: -1)).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => new SGD([], lr: 0.1)).Message);
        Assert.Contains("more than once", Assert.Throws<ArgumentException>(() => new SGD([ps[0], ps[0]], lr: 0.1)).Message);
        var optimizer = new SGD(ps, lr: 0.1);
        Assert.Throws<ArgumentException>(() => optimizer.LearningRate = -1);
        ps[0].Grad = Tensor.Ones(3);
        Assert.Contains("[2]", Assert.Throws<InvalidOperationException>(optimizer.Step).Message);
    }
}
