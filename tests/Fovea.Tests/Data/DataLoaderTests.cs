using Fovea.Data;

namespace Fovea.Tests.Data;

public class DataLoaderTests
{
    /// <summary><paramref name="count"/> images of C×H×W; pixel k of image i is (7i + k) mod 256; label i mod 3.</summary>
    private static ImageDataset Synthetic(int count, int channels = 1, int height = 2, int width = 2)
    {
        int size = channels * height * width;
        var pixels = new byte[count * size];
        for (int i = 0; i < count; i++)
            for (int k = 0; k < size; k++) pixels[i * size + k] = (byte)(7 * i + k);
        return new ImageDataset(pixels, [.. Enumerable.Range(0, count).Select(i => i % 3)], channels, height, width, ["a", "b", "c"], "synthetic");
    }

    /// <summary>Runs one enumeration, copying what each batch holds and disposing it as a consumer must.</summary>
    private static List<(int[] Shape, float[] Images, int[] Labels, int[] Indices)> Drain(IEnumerable<Batch> batches)
    {
        var result = new List<(int[], float[], int[], int[])>();
        foreach (var batch in batches)
            using (batch)
                result.Add((Enumerable.Range(0, batch.Images.Rank).Select(a => batch.Images.Shape[a]).ToArray(), batch.Images.ToArray(), batch.Labels, batch.Indices));
        return result;
    }

    [Fact]
    public void BatchesAreNchwWithAShortLastBatch()
    {
        var batches = Drain(new DataLoader(Synthetic(10), batchSize: 4));
        Assert.Equal([[4, 1, 2, 2], [4, 1, 2, 2], [2, 1, 2, 2]], batches.Select(b => b.Shape));
        Assert.Equal(Enumerable.Range(0, 10), batches.SelectMany(b => b.Indices));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i % 3), batches.SelectMany(b => b.Labels));
        Assert.Equal(7 * 9 + 3, batches[2].Images[^1] * 255, 3); // last pixel of image 9, pixels/255 by default
    }

    [Fact]
    public void DropLastSkipsTheShortBatch()
    {
        var loader = new DataLoader(Synthetic(10), batchSize: 4, dropLast: true);
        Assert.Equal((2, 8), (loader.BatchCount, loader.ImageCount));
        Assert.Equal(2, Drain(loader).Count);
        Assert.Equal((3, 10), (new DataLoader(Synthetic(10), 4).BatchCount, new DataLoader(Synthetic(10), 4).ImageCount));
    }

    [Fact]
    public void NormalisesPerChannel()
    {
        var data = Synthetic(3, channels: 3, height: 1, width: 2);
        var batch = Drain(DataLoader.Ordered(data, batchSize: 3, Normalization.Cifar10))[0];
        var mean = new[] { 0.4914f, 0.4822f, 0.4465f };
        var std = new[] { 0.2470f, 0.2435f, 0.2616f };
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 6; k++)
                Assert.Equal(((byte)(7 * i + k) / 255f - mean[k / 2]) / std[k / 2], batch.Images[i * 6 + k]);

        var gray = Drain(DataLoader.Ordered(Synthetic(1), 1, Normalization.FashionMnist))[0];
        Assert.Equal((3 / 255f - 0.2860f) / 0.3530f, gray.Images[3]);
    }

    [Fact]
    public void NormalizationMustFitTheChannels()
    {
        var e = Assert.Throws<ArgumentException>(() => new DataLoader(Synthetic(2), 1, Normalization.Cifar10));
        Assert.Contains("3 channel statistics; images have 1 channels", e.Message);
    }

    [Fact]
    public void ComputedStatisticsMatchTheDefinition()
    {
        var data = new ImageDataset([0, 255, 51, 51, 255, 0, 51, 51], [0, 1], 2, 1, 2, ["a", "b"], "t");
        var stats = Normalization.Compute(data);
        Assert.Equal([0.5f, 0.2f], stats.Mean);
        Assert.Equal(0.5f, stats.Std[0], 6);
        Assert.Equal(1e-6f, stats.Std[1]); // a constant channel gets a tiny std instead of a division by zero
    }

    [Fact]
    public void ShuffleDependsOnlyOnSeedAndEpoch()
    {
        var data = Synthetic(50);
        var a = new DataLoader(data, 8, shuffle: true, seed: 42);
        var b = new DataLoader(data, 8, shuffle: true, seed: 42);
        var epochs = Enumerable.Range(0, 3).Select(_ => Drain(a).SelectMany(x => x.Indices).ToArray()).ToArray();

        Assert.Equal(3, a.NextEpoch);
        Assert.All(epochs, order => Assert.Equal(Enumerable.Range(0, 50), order.Order()));
        Assert.NotEqual(epochs[0], epochs[1]);
        Assert.NotEqual(Enumerable.Range(0, 50), epochs[0]);
        Assert.Equal(epochs[2], Drain(b.Epoch(2)).SelectMany(x => x.Indices)); // resuming at epoch 2 is exact
        b.NextEpoch = 1;
        Assert.Equal(epochs[1], Drain(b).SelectMany(x => x.Indices));
        Assert.Equal(epochs[0], a.Order(0));
        Assert.NotEqual(epochs[0], new DataLoader(data, 8, shuffle: true, seed: 43).Order(0));
        Assert.Equal(Enumerable.Range(0, 50), new DataLoader(data, 8).Order(5));
    }

    [Fact]
    public void AugmentationDependsOnlyOnSeedEpochAndImageNotOnBatchingOrPrefetch()
    {
        var data = Synthetic(23, channels: 2, height: 6, width: 5);
        var augment = Augmentation.Parse("crop:2,flip,translate:1,erase");
        Dictionary<int, float[]> PerImage(int batchSize, bool prefetch, int epoch)
        {
            var loader = new DataLoader(data, batchSize, Normalization.FashionMnist, shuffle: true, seed: 9, augmentations: augment, prefetch: prefetch);
            var images = new Dictionary<int, float[]>();
            foreach (var (_, pixels, _, indices) in Drain(loader.Epoch(epoch)))
                for (int i = 0; i < indices.Length; i++) images[indices[i]] = pixels[(i * 60)..((i + 1) * 60)];
            return images;
        }

        var reference = PerImage(4, prefetch: true, epoch: 1);
        foreach (var other in new[] { PerImage(4, prefetch: false, epoch: 1), PerImage(7, prefetch: true, epoch: 1), PerImage(23, prefetch: false, epoch: 1) })
            Assert.All(reference, kv => Assert.Equal(kv.Value, other[kv.Key]));
        var nextEpoch = PerImage(4, prefetch: true, epoch: 2);
        Assert.Contains(reference, kv => !kv.Value.SequenceEqual(nextEpoch[kv.Key]));
    }

    [Fact]
    public void OrderedLoaderNeverAugments()
    {
        var loader = DataLoader.Ordered(Synthetic(5), 2);
        Assert.Empty(loader.Augmentations);
        Assert.False(loader.Shuffle);
        Assert.Equal(Drain(loader.Epoch(0)).SelectMany(b => b.Images), Drain(loader.Epoch(3)).SelectMany(b => b.Images));
    }

    [Fact]
    public void StoppingEarlyIsClean()
    {
        var loader = new DataLoader(Synthetic(40), 4, shuffle: true, seed: 1);
        foreach (var batch in loader)
        {
            batch.Dispose();
            break; // the prefetched second batch is disposed by the loader
        }
        Assert.Equal(10, Drain(loader).Count);
    }

    [Fact]
    public void RejectsABadBatchSize() =>
        Assert.Contains("batch size must be positive", Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(Synthetic(2), 0)).Message);
}
