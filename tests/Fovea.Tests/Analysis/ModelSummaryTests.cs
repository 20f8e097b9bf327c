using Fovea.Analysis;
using Fovea.Nn;

namespace Fovea.Tests.Analysis;

public class ModelSummaryTests
{
    [Fact]
    public void CnnSmallRowsMatchHandComputedShapesParametersAndMultiplyAdds()
    {
        var summary = ModelSummary.Of(Zoo.Create("cnn-small", rng: new Rng(1)), 1, 28, 28);
        var rows = summary.Layers.ToDictionary(r => r.Name);
        Assert.Equal("[1, 32, 28, 28]", rows["0"].OutputShape.ToString());
        Assert.Equal(9 * 32 + 32, rows["0"].Parameters);
        Assert.Equal(9L * 32 * 28 * 28, rows["0"].MultiplyAdds);
        Assert.Equal(9L * 32 * 64 * 14 * 14, rows["3"].MultiplyAdds);
        Assert.Equal("[1, 3136]", rows["6"].OutputShape.ToString());
        Assert.Equal(3136L * 128, rows["7"].MultiplyAdds);
        Assert.Equal(0, rows["2"].MultiplyAdds);
        Assert.Equal(9L * 32 * 784 + 9L * 32 * 64 * 196 + 3136 * 128 + 1280, summary.TotalMultiplyAdds);
        Assert.Equal(Zoo.Create("cnn-small", rng: new Rng(1)).ParameterCount(), summary.TotalParameters);
    }

    [Fact]
    public void ResidualBlocksCountEveryConvolutionAtTheirOutputSize()
    {
        var summary = ModelSummary.Of(Zoo.Create("resnet8", 3, 32, 32, rng: new Rng(1)), 3, 32, 32);
        var block = summary.Layers.Single(r => r.Name == "4"); // 16→32, stride 2: 16×16 output
        Assert.Equal("[1, 32, 16, 16]", block.OutputShape.ToString());
        Assert.Equal((9L * 16 * 32 + 9L * 32 * 32 + 16L * 32) * 256, block.MultiplyAdds);
    }
}
