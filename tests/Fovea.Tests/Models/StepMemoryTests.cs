using Fovea.Nn;
using Fovea.Optim;
using Fovea.Tests.Support;

namespace Fovea.Tests.Models;

/// <summary>
/// Memory of a step: inference frees activations as it goes, training reuses pooled memory. Alone in its
/// collection because allocation counters are process-wide: tests running beside it would be counted too.
/// </summary>
[Collection(nameof(StepMemoryTests))]
public class StepMemoryTests
{
    /// <summary>Remembers the tensors it sees; returns its input itself (as Identity or eval-mode Dropout do) or a copy.</summary>
    private sealed class Witness(bool passThrough) : Module
    {
        public List<Tensor> Inputs { get; } = [];
        public List<Tensor> Outputs { get; } = [];
        public override Tensor Forward(Tensor input)
        {
            Inputs.Add(input);
            Outputs.Add(passThrough ? input : F.Relu(input));
            return Outputs[^1];
        }
        public override System.Text.Json.Nodes.JsonObject ToSpec() => new() { ["type"] = nameof(Witness) };
    }

    private static bool IsFreed(Tensor t)
    {
        try
        {
            _ = t.Span;
            return false;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }

    [Fact]
    public void InferenceFreesEachActivationOnceTheNextLayerHasReadItButNeverTheCallersInput()
    {
        var first = new Witness(passThrough: false);
        var passing = new Witness(passThrough: true);
        var last = new Witness(passThrough: false);
        var model = new Sequential(first, new Linear(6, 5, rng: new Rng(1)), passing, new ReLU(), last, new Linear(5, 3, rng: new Rng(2)));
        var x = Tensor.Normal(new TensorShape(4, 6), 0, 1, new Rng(3));

        Tensor y;
        using (Autograd.NoGrad()) y = model.Forward(x);

        Assert.Same(x, first.Inputs[0]);
        Assert.False(IsFreed(x));
        Assert.True(IsFreed(passing.Inputs[0]));  // the Linear output, passed through and then read by ReLU
        Assert.True(IsFreed(last.Inputs[0]));
        Assert.False(IsFreed(y));
        Assert.Equal(new TensorShape(4, 3), y.Shape);
    }

    [Fact]
    public void InferenceFlattensAnIntermediateInPlaceButNeverTheCallersInput()
    {
        var before = new Witness(passThrough: false);
        var after = new Witness(passThrough: true);
        var model = new Sequential(before, new Flatten(), after, new Linear(12, 3, rng: new Rng(1)));
        var x = Tensor.Normal(new TensorShape(2, 3, 2, 2), 0, 1, new Rng(2));
        Tensor y;
        using (Autograd.NoGrad()) y = model.Forward(x);
        Assert.Same(before.Outputs[0], after.Inputs[0]);  // relabelled [2, 12], not copied, then freed once the Linear read it
        Assert.Equal(new TensorShape(2, 12), after.Inputs[0].Shape);
        Assert.True(IsFreed(after.Inputs[0]));
        using var expected = model.Forward(x);  // with the tape: Flatten copies
        Assert.NotSame(before.Outputs[1], after.Inputs[1]);
        TensorAssert.Equal(expected, y, "flattened in place");

        // The caller's input, flattened first, is read where it is (not copied) and left as it was.
        var reader = new Witness(passThrough: true);
        var flattenFirst = new Sequential(new Flatten(), reader, new Linear(12, 3, rng: new Rng(1)));
        var values = x.ToArray();
        Tensor z;
        using (Autograd.NoGrad()) z = flattenFirst.Forward(x);
        Assert.Equal(new TensorShape(2, 12), reader.Inputs[0].Shape);
        Assert.Equal(new TensorShape(2, 3, 2, 2), x.Shape);
        Assert.False(IsFreed(x));
        Assert.Equal(values, x.ToArray());
        using var expectedZ = flattenFirst.Forward(x);
        TensorAssert.Equal(expectedZ, z, "the caller's input flattened without a copy");
        // Nothing after the Flatten that makes a tensor: the result owns a copy, which outlives the input.
        var input = Tensor.Normal(new TensorShape(2, 3, 2, 2), 0, 1, new Rng(3));
        var copied = input.ToArray();
        Tensor flat;
        using (Autograd.NoGrad()) flat = new Sequential(new Flatten(), new Witness(passThrough: true)).Forward(input);
        input.Dispose();
        Assert.Equal(new TensorShape(2, 12), flat.Shape);
        Assert.Equal(copied, flat.ToArray());
    }

    [Fact]
    public void InferenceAppliesAReLUInPlaceToAnIntermediateButNeverToTheCallersInput()
    {
        var before = new Witness(passThrough: false);
        var after = new Witness(passThrough: true);
        var model = new Sequential(new Linear(6, 5, rng: new Rng(1)), before, new ReLU(), after, new Linear(5, 3, rng: new Rng(2)));
        var x = Tensor.Normal(new TensorShape(4, 6), 0, 1, new Rng(3));
        Tensor y;
        using (Autograd.NoGrad()) y = model.Forward(x);
        Assert.Same(before.Outputs[0], after.Inputs[0]);  // overwritten, then freed once the Linear read it
        using var expected = model.Forward(x);  // with the tape: ReLU writes a new tensor
        Assert.NotSame(before.Outputs[1], after.Inputs[1]);
        TensorAssert.Equal(expected, y, "ReLU in place");
        // A Linear's outputs, negative ones among them.
        var plain = new Sequential(new Linear(6, 5, rng: new Rng(1)), new ReLU(), new Linear(5, 3, rng: new Rng(2)));
        Tensor fromPlain;
        using (Autograd.NoGrad()) fromPlain = plain.Forward(x);
        using var expectedPlain = plain.Forward(x);
        TensorAssert.Equal(expectedPlain, fromPlain, "a Linear's outputs, ReLU in place");

        // The caller's input: a new tensor, the input untouched.
        var signed = Tensor.FromArray([-1f, 2f, -0f, float.NaN], 1, 4);
        Tensor activated;
        using (Autograd.NoGrad()) activated = new Sequential(new ReLU()).Forward(signed);
        Assert.NotSame(signed, activated);
        Assert.Equal([-1f, 2f, -0f, float.NaN], signed.ToArray());
        Assert.Equal([0f, 2f, 0f, float.NaN], activated.ToArray());
    }

    [Fact]
    public void FreeingUnderNoGradDoesNotChangeTheResult()
    {
        var model = Zoo.Create("resnet8", 3, 8, 8, rng: new Rng(4));
        model.Eval();
        var x = Tensor.Normal(new TensorShape(2, 3, 8, 8), 0, 1, new Rng(5));
        var recorded = model.Forward(x);  // with the tape: nothing is freed
        Tensor freed;
        using (Autograd.NoGrad()) freed = model.Forward(x);
        // Equal up to rounding: without gradients the small maps' convolutions take the channel-vectorised kernel, whose
        // sums run in another order; a freed buffer read too early would be far off.
        TensorAssert.Close(recorded.ToArray(), freed.ToArray(), 1e-5, 1e-6, "no-grad forward");
        Assert.False(IsFreed(x));
    }

    [Fact]
    public void WithTheTapeNothingIsFreed()
    {
        var witness = new Witness(passThrough: false);
        var model = new Sequential(new Linear(6, 5, rng: new Rng(1)), witness, new Linear(5, 3, rng: new Rng(2)));
        var y = model.Forward(Tensor.Normal(new TensorShape(4, 6), 0, 1, new Rng(3)));
        Assert.False(IsFreed(witness.Inputs[0]));
        y.Backward(Tensor.Ones(4, 3));
    }

    [Fact]
    public void ASteadyStateTrainingStepOfCnnBnAllocatesLittle()
    {
        var model = Zoo.Create("cnn-bn", 1, 28, 28, rng: new Rng(1));
        var optimizer = new Adam(model.Parameters(), 1e-3);
        var x = Tensor.Normal(new TensorShape(8, 1, 28, 28), 0, 1, new Rng(2));
        int[] labels = [0, 1, 2, 3, 4, 5, 6, 7];
        void Step()
        {
            optimizer.ZeroGrad();
            var loss = F.CrossEntropy(model.Forward(x), labels);
            loss.Backward();
            loss.DisposeGraph();
            optimizer.Step();
        }
        for (int i = 0; i < 3; i++) Step();
        const int steps = 5;
        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < steps; i++) Step();
        long perStep = (GC.GetTotalAllocatedBytes(precise: true) - before) / steps;
        // Activations come from the pool; what remains is tape nodes, closures and task bookkeeping.
        Assert.InRange(perStep, 0, 256 * 1024);
    }
}

[CollectionDefinition(nameof(StepMemoryTests), DisableParallelization = true)]
public class StepMemoryCollection;
