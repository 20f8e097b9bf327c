using Fovea.Analysis;
using Fovea.Nn;

namespace Fovea.Tests.Analysis;

public class CostSentencesTests
{
    [Theory]
    [InlineData(157_000, "157 000")]
    [InlineData(320, "320")]
    [InlineData(1_688_849_860_263_936, "1.7e15")]
    [InlineData(9_960_000_000, "1.0e10")]
    public void CountsAreExactUpToTenMillionThenScientific(long value, string expected) => Assert.Equal(expected, Quantities.Count(value));

    [Theory]
    [InlineData(999, "999 B")]
    [InlineData(1_300, "1.3 kB")]
    [InlineData(6_755_399_441_055_744, "6.8 PB")]
    [InlineData(401_536, "402 kB")]
    public void BytesUseSiUnits(long value, string expected) => Assert.Equal(expected, Quantities.Bytes(value));

    [Fact]
    public void AMegapixelImageStatesWhatADenseFirstLayerWouldNeed()
    {
        var sentences = CostSentences.Of(ZooCosts.Of("cnn-small", 3, 2048, 2048));
        Assert.Contains("A dense layer from 3×2048×2048 to 32×2048×2048 in place of the first convolution would need 1.7e15 weights (6.8 PB).", sentences);
        Assert.Contains(sentences, s => s.StartsWith("conv1 (layer 0, 3→32): 4 194 304× fewer weights than its locally connected twin", StringComparison.Ordinal));
        Assert.Contains(sentences, s => s.StartsWith("conv2: each output reads 3·3·32 = 288 inputs instead of all 32×1024×1024", StringComparison.Ordinal));
        Assert.Contains(sentences, s => s.StartsWith("Layer 7 is built for another image size", StringComparison.Ordinal) && s.Contains("Linear(16777216→128)"));
    }

    [Fact]
    public void EveryZooModelCanBeCostedOnAMegapixelImage()
    {
        foreach (string name in Zoo.Names)
        {
            var costs = ZooCosts.Of(name, 3, 2048, 2048);
            Assert.NotEmpty(CostSentences.Of(costs));
            Assert.True(costs.Totals.Macs > 0, name);
        }
    }

    [Fact]
    public void SmallZooModelsAreBuiltForTheRequestedSize()
    {
        var costs = ZooCosts.Of("cnn-small", 3, 32, 32);
        Assert.True(costs.TakesInput);
        Assert.Equal(Zoo.Create("cnn-small", 3, 32, 32, rng: new Rng(1)).ParameterCount(), costs.Totals.Parameters);
    }

    [Fact]
    public void AnMlpSaysItsFirstLayerIsDense()
    {
        var sentences = CostSentences.Of(ZooCosts.Of("mlp", 3, 2048, 2048));
        Assert.Contains("The first layer is dense: on 3×2048×2048 images Linear(12582912→256) needs 3.2e9 weights (13 GB).", sentences);
    }
}
