using System.Text.Json.Nodes;
using Fovea;
using Fovea.Nn;
using Fovea.Tests.Support;

namespace Fovea.Tests.Norm;

public class BatchNormTests
{
    public static TheoryData<string> Cases => Fixture.Names("norm");

    private static Tensor? Vector(FixtureCase c, string key) =>
        c.Params[key] is JsonArray a ? Tensor.FromArray(a.Select(v => (float)v!.GetValue<double>()).ToArray(), a.Count) : null;

    private static Tensor Apply(FixtureCase c, Dictionary<string, Tensor> i, Tensor? runningMean, Tensor? runningVar) =>
        F.BatchNorm(i["x"], runningMean, runningVar, i.GetValueOrDefault("weight"), i.GetValueOrDefault("bias"),
            c.Bool("training"), c.Float("momentum"), c.Float("eps"));

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorchIncludingRunningStatistics(string name)
    {
        var c = Fixture.Get("norm", name);
        var runningMean = Vector(c, "running_mean");
        var runningVar = Vector(c, "running_var");
        Fixture.Check(c, i => Apply(c, i, runningMean, runningVar));
        if (runningMean is null) return;
        TensorAssert.Close(Vector(c, "running_mean_after")!, runningMean, what: $"{name}: running_mean");
        TensorAssert.Close(Vector(c, "running_var_after")!, runningVar!, what: $"{name}: running_var");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PassesGradCheck(string name)
    {
        var c = Fixture.Get("norm", name);
        var runningMean = Vector(c, "running_mean");
        var runningVar = Vector(c, "running_var");
        var names = c.Inputs.Keys.ToArray();
        GradCheck.Check(t => Apply(c, names.Zip(t).ToDictionary(p => p.First, p => p.Second), runningMean, runningVar),
            c.Inputs.Values.Select(v => v.Clone()).ToArray(), what: name);
    }

    [Fact]
    public void LayerMatchesPyTorchAndCountsBatches()
    {
        var c = Fixture.Get("norm", "batch_norm_nchw_affine_train");
        var layer = new BatchNorm2d(3);
        layer.Weight!.CopyFrom(c.Inputs["weight"]);
        layer.Bias!.CopyFrom(c.Inputs["bias"]);
        layer.RunningMean!.CopyFrom(Vector(c, "running_mean")!);
        layer.RunningVar!.CopyFrom(Vector(c, "running_var")!);
        TensorAssert.Close(c.Output, layer.Forward(c.Inputs["x"]), what: "training output");
        TensorAssert.Close(Vector(c, "running_mean_after")!, layer.RunningMean, what: "running_mean");
        TensorAssert.Close(Vector(c, "running_var_after")!, layer.RunningVar!, what: "running_var");
        Assert.Equal(1f, layer.NumBatchesTracked!.Item());

        layer.Eval();
        var expected = F.BatchNorm(c.Inputs["x"], layer.RunningMean.Clone(), layer.RunningVar!.Clone(), layer.Weight, layer.Bias, training: false);
        TensorAssert.Equal(expected, layer.Forward(c.Inputs["x"]));
        Assert.Equal(1f, layer.NumBatchesTracked.Item());
        Assert.Equal(["weight", "bias", "running_mean", "running_var", "num_batches_tracked"], layer.StateDict().Keys);
    }

    [Fact]
    public void NullMomentumKeepsACumulativeAverage()
    {
        var layer = new BatchNorm1d(2, momentum: null);
        var first = Tensor.FromArray([1f, 10f, 3f, 20f], 2, 2);
        var second = Tensor.FromArray([5f, 0f, 7f, 2f], 2, 2);
        layer.Forward(first);
        layer.Forward(second);
        TensorAssert.Close(Tensor.FromArray([4f, 8f], 2), layer.RunningMean!);
        // Unbiased batch variances: (2, 50) then (2, 2).
        TensorAssert.Close(Tensor.FromArray([2f, 26f], 2), layer.RunningVar!);
    }

    [Fact]
    public void WithoutAffineOrRunningStatsTheLayerHasNoSuchState()
    {
        var layer = new BatchNorm2d(4, affine: false, trackRunningStats: false);
        Assert.Empty(layer.StateDict());
        var x = Tensor.Normal(new TensorShape(2, 4, 3, 3), 1, 2, new Rng(1));
        layer.Eval();
        TensorAssert.Equal(F.BatchNorm(x, null, null, null, null, training: true), layer.Forward(x));
    }

    [Theory]
    [InlineData("""{"type":"BatchNorm2d","num_features":16,"eps":0.001,"momentum":0.01,"affine":true,"track_running_stats":true}""")]
    [InlineData("""{"type":"BatchNorm1d","num_features":5,"eps":1E-05,"momentum":null,"affine":false,"track_running_stats":false}""")]
    public void SpecRoundTrips(string json)
    {
        var layer = ModuleSpec.FromJson(json, new Rng(0));
        Assert.Equal(json, ModuleSpec.ToJson(layer));
    }

    [Fact]
    public void MisuseNamesTheLayerAndShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => new BatchNorm2d(16).Forward(Tensor.Zeros(8, 16)));
        Assert.Equal("BatchNorm2d(16): expected input [N, 16, H, W], received [8, 16]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new BatchNorm2d(16).Forward(Tensor.Zeros(8, 3, 5, 5)));
        Assert.Contains("received [8, 3, 5, 5]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new BatchNorm1d(16).Forward(Tensor.Zeros(8, 16, 2, 2)));
        Assert.Equal("BatchNorm1d(16): expected input [N, 16] or [N, 16, L], received [8, 16, 2, 2]", e.Message);

        var single = new BatchNorm1d(4);
        e = Assert.Throws<ArgumentException>(() => single.Forward(Tensor.Zeros(1, 4)));
        Assert.Contains("more than 1 value per channel", e.Message);
        Assert.Contains("[1, 4]", e.Message);
        Assert.Equal(0f, single.NumBatchesTracked!.Item());

        e = Assert.Throws<ArgumentException>(() => F.BatchNorm(Tensor.Zeros(2, 3), null, null, Tensor.Ones(4), null, training: true));
        Assert.Contains("BatchNorm(3): weight must be [3], received [4]", e.Message);
        e = Assert.Throws<ArgumentException>(() => F.BatchNorm(Tensor.Zeros(2, 3), Tensor.Zeros(3), null, null, null, training: true));
        Assert.Contains("running_var", e.Message);
    }

    [Fact]
    public void SplittingChannelsAcrossThreadsGivesTheSameBits()
    {
        var x = Tensor.Normal(new TensorShape(4, 8, 33, 33), 0.5f, 2, new Rng(3));
        (Tensor Y, Tensor Grad) Run(int threads)
        {
            using var _ = Parallelism.UseThreads(threads);
            var input = x.Clone();
            input.RequiresGrad = true;
            var y = F.BatchNorm(input, Tensor.Zeros(8), Tensor.Ones(8), null, null, training: true);
            y.Backward(Tensor.Normal(y.Shape, 0, 1, new Rng(4)));
            return (y, input.Grad!);
        }
        var one = Run(1);
        var four = Run(4);
        TensorAssert.Equal(one.Y, four.Y, "output");
        TensorAssert.Equal(one.Grad, four.Grad, "gradient");
    }
}
