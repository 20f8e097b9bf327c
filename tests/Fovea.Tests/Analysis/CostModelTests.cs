using System.Numerics;
using Fovea.Analysis;
using Fovea.Nn;

namespace Fovea.Tests.Analysis;

/// <summary>Every cost rule against values worked out by hand from the layers' arguments.</summary>
public class CostModelTests
{
    private static LayerCost Single(Module layer, int c, int h, int w) => CostModel.Of(new Sequential(layer), c, h, w).Layers.Single();

    [Fact]
    public void ConvWithStridePaddingDilationAndGroups()
    {
        var conv = new Conv2d(4, 6, 3, stride: 2, padding: 2, dilation: 2, groups: 2, rng: new Rng(1));
        var row = Single(conv, 4, 11, 9);
        // (11 + 2·2 − 2·(3 − 1) − 1)/2 + 1 = 6 rows, (9 + 4 − 4 − 1)/2 + 1 = 5 columns.
        Assert.Equal("[1, 6, 6, 5]", row.OutputShape.ToString());
        Assert.Equal(6 * 2 * 9 + 6, row.Parameters);
        Assert.Equal(conv.ParameterCount(), row.Parameters);
        Assert.Equal(114 * 4, row.WeightBytes);
        Assert.Equal(6L * 5 * 6 * (2 * 9), row.Macs);          // every output reads (4/2)·3·3 inputs
        Assert.Equal(180 * 4, row.OutputBytes);
        Assert.Equal(4 * 11 * 9 * 4, row.TrainingBytes);       // conv keeps its input
        Assert.Equal(new AxisField(5, 2, 0), row.ReceptiveField!.Height); // 1 + (3 − 1)·2; start 0 + (1·2 − 2)

        var twins = row.Convolutions.Single();
        Assert.Equal(18, twins.WindowInputs);
        Assert.Equal((Int128)(180 * 18 + 180), twins.LocallyConnectedParameters);   // one 18-weight window and a bias per output
        Assert.Equal((Int128)3240, twins.LocallyConnectedMacs);
        Assert.Equal((Int128)(396 * 180 + 180), twins.DenseParameters);             // 4·11·9 inputs × 6·6·5 outputs
        Assert.Equal((Int128)(396 * 180), twins.DenseMacs);
        Assert.Equal(3420.0 / 114, twins.LocallyConnectedRatio, 12);
        Assert.Equal(71460.0 / 114, twins.DenseRatio, 12);
        Assert.Equal(71280.0 / 3240, twins.DenseMacsRatio, 12);
        Assert.Equal((Int128)71460 * 4, twins.DenseBytes);
    }

    [Fact]
    public void SamePaddingPutsTheOddPixelAfterAndCentresTheField()
    {
        var row = Single(new Conv2d(1, 1, 4, padding: Padding2d.Same, bias: false, rng: new Rng(1)), 1, 10, 10);
        Assert.Equal("[1, 1, 10, 10]", row.OutputShape.ToString());
        // PyTorch pads 1 before and 2 after a 4-tap window: output 0 is centred on pixel 0.5.
        Assert.Equal(new AxisField(4, 1, 0.5), row.ReceptiveField!.Width);
        Assert.Equal(-1, row.ReceptiveField.Width.FirstPixel(0));
        Assert.Equal(16, row.Parameters);
    }

    [Fact]
    public void LocallyConnectedCountsAWeightSetPerPositionAndIsRebuiltForAnotherSize()
    {
        var lc = new LocallyConnected2d(2, 3, (6, 6), 3, rng: new Rng(1));
        var row = Single(lc, 2, 6, 6);
        Assert.Equal("[1, 3, 4, 4]", row.OutputShape.ToString());
        Assert.Equal(16 * 3 * 18 + 3 * 16, row.Parameters);
        Assert.Equal(lc.ParameterCount(), row.Parameters);
        Assert.Equal(16 * 3 * 18, row.Macs);
        Assert.Null(row.SizeMismatch);

        var costs = CostModel.Of(new Sequential(lc), 2, 8, 8);
        var resized = costs.Layers.Single();
        Assert.False(costs.TakesInput);
        Assert.Contains("6×6", resized.SizeMismatch);
        Assert.Contains("in=8×8", resized.Layer);
        Assert.Equal(36 * 3 * 18 + 3 * 36, resized.Parameters);
    }

    [Fact]
    public void DenseLayerAfterFlattenAndItsCostOnAnotherSize()
    {
        var model = new Sequential(new Flatten(), new Linear(12, 5, rng: new Rng(1)));
        var costs = CostModel.Of(model, 3, 2, 2);
        Assert.True(costs.TakesInput);
        Assert.Equal("[1, 12]", costs.Layers[0].OutputShape.ToString());
        Assert.Equal(65, costs.Layers[1].Parameters);
        Assert.Equal(60, costs.Layers[1].Macs);
        Assert.Null(costs.Layers[1].ReceptiveField);   // each output sees the whole image
        Assert.Equal(12 * 4, costs.Layers[1].TrainingBytes);

        var larger = CostModel.Of(model, 3, 4, 4).Layers[1];
        Assert.Equal("Linear(48→5)", larger.Layer);
        Assert.Equal(48 * 5 + 5, larger.Parameters);
        Assert.NotNull(larger.SizeMismatch);
        Assert.Throws<ArgumentException>(() => ModelSummary.Of(model, 3, 4, 4));
    }

    [Fact]
    public void MaxPoolKeepsAnIntPerOutputAndGrowsTheField()
    {
        var row = Single(new MaxPool2d(3, stride: 2, padding: 1), 2, 7, 7);
        Assert.Equal("[1, 2, 4, 4]", row.OutputShape.ToString());   // ⌊(7 + 2 − 3)/2⌋ + 1
        Assert.Equal(0, row.Parameters);
        Assert.Equal(0, row.Macs);
        Assert.Equal(2 * 16 * sizeof(int), row.TrainingBytes);
        Assert.Equal(new AxisField(3, 2, 0), row.ReceptiveField!.Height);
        Assert.Equal("[1, 2, 4, 4]", Single(new MaxPool2d(2, ceilMode: true), 2, 7, 7).OutputShape.ToString());
    }

    [Fact]
    public void AveragePoolsKeepNothing()
    {
        var avg = Single(new AvgPool2d(2), 2, 7, 7);
        Assert.Equal("[1, 2, 3, 3]", avg.OutputShape.ToString());
        Assert.Equal(0, avg.TrainingBytes);
        Assert.Equal(new AxisField(2, 2, 0.5), avg.ReceptiveField!.Width);

        var global = Single(new GlobalAvgPool2d(), 2, 7, 5);
        Assert.Equal("[1, 2, 1, 1]", global.OutputShape.ToString());
        Assert.Equal(7, global.ReceptiveField!.Height.Size);
        Assert.Equal(5, global.ReceptiveField.Width.Size);

        Assert.Null(Single(new AdaptiveAvgPool2d(2), 2, 7, 7).ReceptiveField);  // uneven windows
        Assert.Equal(new AxisField(4, 4, 1.5), Single(new AdaptiveAvgPool2d(2), 2, 8, 8).ReceptiveField!.Height);
    }

    [Fact]
    public void ASoftmaxKeepsTheFieldOnlyAcrossChannels()
    {
        Assert.Equal(ReceptiveField.Identity, Single(new Softmax(1), 2, 5, 5).ReceptiveField);
        Assert.Null(Single(new LogSoftmax(), 2, 5, 5).ReceptiveField);   // along the width: each output sees its whole row
    }

    [Fact]
    public void BatchNormHasTwoParametersPerChannelAndKeepsItsInputAndStatistics()
    {
        var bn = new BatchNorm2d(3);
        var row = Single(bn, 3, 5, 5);
        Assert.Equal(6, row.Parameters);
        Assert.Equal(bn.ParameterCount(), row.Parameters);
        Assert.Equal(0, row.Macs);
        Assert.Equal(75 * 4 + 2 * 3 * 4, row.TrainingBytes);
        Assert.Equal(ReceptiveField.Identity, row.ReceptiveField);
        Assert.Throws<ArgumentException>(() => Single(bn, 4, 5, 5));
    }

    [Fact]
    public void ResidualBlockIsOneRowWithItsConvolutionsShortcutAndSum()
    {
        var block = new BasicBlock(4, 8, stride: 2, rng: new Rng(1));
        var row = CostModel.Of(new Sequential(block), 4, 9, 9).Layers.Single();
        Assert.Equal("[1, 8, 5, 5]", row.OutputShape.ToString());
        Assert.Equal(8 * 4 * 9 + 8 * 8 * 9 + 8 * 4 + 3 * 16, row.Parameters);   // conv1, conv2, 1×1 shortcut, three BNs
        Assert.Equal(block.ParameterCount(), row.Parameters);
        Assert.Equal((8 * 4 * 9 + 8 * 8 * 9 + 8 * 4) * 25L, row.Macs);
        Assert.Equal(["0.conv1", "0.conv2", "0.downsample.0"], row.Convolutions.Select(c => c.Name));
        // input, output, conv1/ReLU/conv2/shortcut maps, a mean and 1/σ per channel of three BNs
        Assert.Equal(324 * 4 + 200 * 4 + 4 * 200 * 4 + 3 * 2 * 8 * 4, row.TrainingBytes);
        Assert.Equal(new AxisField(7, 2, 0), row.ReceptiveField!.Height);    // 3, then + 2·2
    }

    [Fact]
    public void ReceptiveFieldsOfKnownStacks()
    {
        var twoConvs = CostModel.Of(new Sequential(new Conv2d(1, 1, 3, rng: new Rng(1)), new Conv2d(1, 1, 3, rng: new Rng(1))), 1, 16, 16);
        Assert.Equal(new AxisField(5, 1, 2), twoConvs.ReceptiveField!.Height);

        var convPoolConv = CostModel.Of(new Sequential(new Conv2d(1, 1, 3, rng: new Rng(1)), new MaxPool2d(2), new Conv2d(1, 1, 3, rng: new Rng(1))), 1, 16, 16);
        var field = convPoolConv.ReceptiveField!.Width;
        Assert.Equal(8, field.Size);
        Assert.Equal(2, field.Jump);
        Assert.Equal(3.5, field.Start);
        Assert.Equal(0, field.FirstPixel(0));
        Assert.Equal(9, field.LastPixel(1));

        var cnn = CostModel.Of(ConvolutionalPart.Of(Zoo.Create("cnn-small", rng: new Rng(1))), 1, 28, 28).ReceptiveField!;
        Assert.Equal(new AxisField(10, 4, 1.5), cnn.Height);
    }

    [Fact]
    public void TrainingTotalCountsATensorKeptByTwoRulesOnce()
    {
        var costs = CostModel.Of(Zoo.Create("cnn-small", rng: new Rng(1)), 1, 28, 28);
        // input (conv1), ReLU1's output (ReLU1), argmax1, pool1's output (conv2), ReLU2's output, argmax2,
        // pool2's output (the Linear, through Flatten), ReLU3's output (ReLU3 and the last Linear: once).
        long expected = 4L * (784 + 25088 + 6272 + 6272 + 12544 + 3136 + 3136 + 128);
        Assert.Equal(expected, costs.Totals.TrainingBytes);
        Assert.True(costs.Layers.Sum(l => l.TrainingBytes) > expected);
    }

    [Fact]
    public void TotalsAgreeWithModelSummaryAndParameterCountsForEveryZooModel()
    {
        foreach (string name in Zoo.Names)
        {
            var (c, size) = name.StartsWith("resnet", StringComparison.Ordinal) ? (3, 32) : (1, 28);
            var model = Zoo.Create(name, c, size, size, rng: new Rng(1));
            var costs = CostModel.Of(model, c, size, size);
            var summary = ModelSummary.Of(model, c, size, size);
            Assert.True(costs.TakesInput, name);
            Assert.Equal(model.ParameterCount(), costs.Totals.Parameters);
            Assert.Equal(summary.TotalParameters, costs.Totals.Parameters);
            Assert.Equal(summary.TotalMultiplyAdds, costs.Totals.Macs);
            Assert.Equal(costs.Totals.Parameters * 4, costs.Totals.WeightBytes);
        }
    }

    [Fact]
    public void ShapesAgreeWithARealForwardPass()
    {
        var model = Zoo.Create("resnet8", 3, 20, 20, rng: new Rng(1));
        model.Eval();
        using var _ = Autograd.NoGrad();
        using var x = Tensor.Zeros(1, 3, 20, 20);
        using var y = model.Forward(x);
        Assert.Equal(y.Shape, CostModel.Of(model, 3, 20, 20).Layers[^1].OutputShape);
    }

    [Fact]
    public void DenseTwinsOnHugeImagesAreExactPastTwoToTheSixtyThree()
    {
        // 100×4096×4096 → 127×4096×4096: the dense twin's bytes pass long.MaxValue.
        var twins = Single(new Conv2d(100, 127, 3, padding: 1, rng: new Rng(1)), 100, 4096, 4096).Convolutions.Single();
        var inputs = new BigInteger(100) * 4096 * 4096;
        var outputs = new BigInteger(127) * 4096 * 4096;
        Assert.Equal((inputs * outputs + outputs).ToString(), twins.DenseParameters.ToString());
        Assert.Equal(((inputs * outputs + outputs) * 4).ToString(), twins.DenseBytes.ToString());
        Assert.True(twins.DenseBytes > long.MaxValue);
        Assert.Equal((double)(inputs * outputs + outputs) / (127 * 100 * 9 + 127), twins.DenseRatio, 1e-9 * twins.DenseRatio);
    }

    [Fact]
    public void CostingAMegapixelImageAllocatesNoActivations()
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var costs = CostModel.Of(Zoo.Create("cnn-small", 3, rng: new Rng(1)), 3, 2048, 2048);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20);
        Assert.Equal((Int128)3 * 2048 * 2048 * 32 * 2048 * 2048 + 32 * 2048 * 2048, costs.Convolutions.First().DenseParameters);
    }

    [Fact]
    public void MisfitsNameTheLayer()
    {
        var e = Assert.Throws<ArgumentException>(() => CostModel.Of(Zoo.Create("cnn-small", rng: new Rng(1)), 3, 28, 28));
        Assert.Contains("Layer 0", e.Message);
        Assert.Contains("[1, 3, 28, 28]", e.Message);
        Assert.Contains("Layer 5", Assert.Throws<ArgumentException>(() => CostModel.Of(Zoo.Create("cnn-small", rng: new Rng(1)), 1, 3, 3)).Message);
    }
}
