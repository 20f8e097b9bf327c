using Fovea.Analysis;
using Fovea.Nn;

namespace Fovea.Tests.Analysis;

public class TiledInferenceTests
{
    private static float MaxAbsDifference(Tensor a, Tensor b)
    {
        Assert.Equal(a.Shape, b.Shape);
        float max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a.Span[i] - b.Span[i]));
        return max;
    }

    private static void AssertTilesMatchWhole(Module features, Tensor image, params int[] tiles)
    {
        using var whole = TiledInference.RunWhole(features, image);
        foreach (int tile in tiles)
        {
            using var tiled = TiledInference.Run(features, image, tile);
            Assert.True(MaxAbsDifference(whole, tiled) <= 1e-5f, $"tile {tile}");
        }
    }

    [Fact]
    public void CnnSmallFeaturesOnAnOddImageEqualTheWholeRunForEveryTileSize()
    {
        var features = ConvolutionalPart.Of(Zoo.Create("cnn-small", 3, rng: new Rng(1)));
        using var image = Tensor.Normal(new TensorShape(2, 3, 61, 46), 0, 1, new Rng(2));
        AssertTilesMatchWhole(features, image, 4, 12, 16, 40, 64);
    }

    [Fact]
    public void StridedDilatedPaddedStacksWithBatchNormEqualTheWholeRun()
    {
        var rng = new Rng(3);
        var bn = new BatchNorm2d(6);
        Tensor.Normal(new TensorShape(6), 0, 1, rng).Span.CopyTo(bn.RunningMean!.Span);
        Tensor.Uniform(new TensorShape(6), 0.5f, 2, rng).Span.CopyTo(bn.RunningVar!.Span);
        var features = new Sequential(
            new Conv2d(2, 6, 5, stride: 2, padding: 2, rng: rng), bn, new LeakyReLU(0.1f),
            new Conv2d(6, 6, 3, padding: 2, dilation: 2, groups: 3, rng: rng), new Tanh(),
            new AvgPool2d(3, stride: 2, padding: 1), new Conv2d(6, 4, 1, rng: rng), new MaxPool2d(3, stride: 1, padding: 1, ceilMode: true));
        using var image = Tensor.Normal(new TensorShape(1, 2, 53, 37), 0, 1, rng);
        AssertTilesMatchWhole(features, image, 4, 8, 20);
    }

    [Fact]
    public void ResidualStacksEqualTheWholeRun()
    {
        var features = ConvolutionalPart.Of(Zoo.Create("resnet8", 3, 32, 32, rng: new Rng(4)));
        Assert.IsType<BasicBlock>(features.Layers[^1]);
        using var image = Tensor.Normal(new TensorShape(1, 3, 45, 38), 0, 1, new Rng(5));
        AssertTilesMatchWhole(features, image, 8, 16);
    }

    [Fact]
    public void TilesMustAlignWithTheStrideAndTheStackMustBeConvolutional()
    {
        var model = Zoo.Create("cnn-small", rng: new Rng(1));
        using var image = Tensor.Zeros(1, 1, 32, 32);
        Assert.Contains("jump (4×4", Assert.Throws<ArgumentException>(() => TiledInference.Run(ConvolutionalPart.Of(model), image, 6)).Message);
        Assert.Contains("layer 6 (Flatten", Assert.Throws<ArgumentException>(() => TiledInference.Run(model, image, 8)).Message);
        Assert.Empty(ConvolutionalPart.Of(Zoo.Create("mlp", rng: new Rng(1))).Layers);
        Assert.Empty(ConvolutionalPart.Of(Zoo.Create("lc-small", rng: new Rng(1))).Layers);
    }

    [Fact]
    public void TilesReadTheirOwnedBlockPlusTheReceptiveFieldsHalo()
    {
        var features = ConvolutionalPart.Of(Zoo.Create("cnn-small", rng: new Rng(1)));
        using var image = Tensor.Zeros(1, 1, 64, 64);
        var plan = TilePlan.Of(features, image, 16);
        // Field 10, jump 4, start 1.5: output o reads pixels 4o − 3 … 4o + 6; starts rounded down to a multiple of 4.
        Assert.Equal([new TileSpan(0, 4, 0, 19), new TileSpan(4, 8, 12, 35), new TileSpan(8, 12, 28, 51), new TileSpan(12, 16, 44, 64)], plan.Rows);
    }
}

/// <summary>The megapixel run measures memory process-wide, so it runs alone.</summary>
[CollectionDefinition(nameof(MegapixelCollection), DisableParallelization = true)]
public sealed class MegapixelCollection;

[Collection(nameof(MegapixelCollection))]
public class MegapixelTiledInferenceTests
{
    [Fact]
    public void A2048By2048ImageByTilesEqualsTheWholeRunWithUnderAQuarterOfItsMemory()
    {
        // cnn-tiny's features (conv 3→16, conv 16→32) keep the test short on two cores; BENCHMARKS.md has cnn-small's.
        var features = ConvolutionalPart.Of(Zoo.Create("cnn-tiny", 3, rng: new Rng(1)));
        using var image = Tensor.Normal(new TensorShape(1, 3, 2048, 2048), 0, 1, new Rng(2));
        // Tiled first, so that the whole run cannot reuse pooled arrays the tiles left behind.
        long before = GC.GetTotalAllocatedBytes(precise: true);
        using var tiled = TiledInference.Run(features, image, 256);
        long tiledBytes = GC.GetTotalAllocatedBytes(precise: true) - before;
        before = GC.GetTotalAllocatedBytes(precise: true);
        using var whole = TiledInference.RunWhole(features, image);
        long wholeBytes = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal("[1, 32, 512, 512]", tiled.Shape.ToString());
        float max = 0;
        var a = tiled.Span;
        var b = whole.Span;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        Assert.True(max <= 1e-5f, $"max abs diff {max}");
        Assert.True(tiledBytes * 4 < wholeBytes, $"tiled allocated {tiledBytes} bytes, whole {wholeBytes}");
    }
}
