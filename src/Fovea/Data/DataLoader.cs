using System.Collections;

namespace Fovea.Data;

/// <summary>
/// Cuts an <see cref="ImageDataset"/> into NCHW batches: one epoch per enumeration, optionally
/// shuffled, augmented and normalised. Epoch e's order depends only on (seed, e) and each image's
/// augmentation only on (seed, e, image index), so resuming at epoch k reproduces an uninterrupted
/// run exactly. While the consumer works on a batch, the next one is prepared by a single background
/// task (one core at most: preparing a batch is cheap next to a training step, and kernels own the
/// other cores). Every <see cref="Batch"/> handed out belongs to the consumer, who disposes it.
/// </summary>
public sealed class DataLoader : IEnumerable<Batch>
{
    private readonly Augmentation[] _augmentations;

    /// <param name="dataset">The images; read, never changed.</param>
    /// <param name="batchSize">Images per batch (B).</param>
    /// <param name="normalization">Pixels/255 only when null.</param>
    /// <param name="shuffle">Visit the images in a new random order each epoch.</param>
    /// <param name="seed">Source of every random choice (order and augmentation).</param>
    /// <param name="dropLast">Skip the last batch of an epoch when it would be short.</param>
    /// <param name="augmentations">Applied in order to each image, before normalisation.</param>
    /// <param name="prefetch">Prepare the next batch in the background; results are the same either way.</param>
    public DataLoader(ImageDataset dataset, int batchSize, Normalization? normalization = null, bool shuffle = false, ulong seed = 0,
        bool dropLast = false, IReadOnlyList<Augmentation>? augmentations = null, bool prefetch = true)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"DataLoader: batch size must be positive. Received: {batchSize}");
        Normalization = normalization ?? Normalization.PixelsOnly;
        Normalization.CheckChannels(dataset.Channels);
        Dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
        _augmentations = [.. augmentations ?? []];
        Prefetch = prefetch;
    }

    /// <summary>A loader for evaluation: data set order, no augmentation, the last short batch kept.</summary>
    public static DataLoader Ordered(ImageDataset dataset, int batchSize, Normalization? normalization = null, bool prefetch = true) =>
        new(dataset, batchSize, normalization, prefetch: prefetch);

    public ImageDataset Dataset { get; }
    public int BatchSize { get; }
    public Normalization Normalization { get; }
    public bool Shuffle { get; }
    public ulong Seed { get; }
    public bool DropLast { get; }
    public IReadOnlyList<Augmentation> Augmentations => _augmentations;
    public bool Prefetch { get; }

    /// <summary>Batches per epoch.</summary>
    public int BatchCount => DropLast ? Dataset.Count / BatchSize : (Dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>Images per epoch.</summary>
    public int ImageCount => DropLast ? BatchCount * BatchSize : Dataset.Count;

    /// <summary>The epoch the next <c>foreach</c> runs (then incremented). Set it to resume at a given epoch.</summary>
    public int NextEpoch { get; set; }

    public IEnumerator<Batch> GetEnumerator() => Epoch(NextEpoch++).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The batches of epoch <paramref name="epoch"/> (counted from 0), whatever epochs ran before.</summary>
    public IEnumerable<Batch> Epoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return Batches(epoch, Order(epoch));
    }

    /// <summary>The data set indices in the order epoch <paramref name="epoch"/> visits them (all of them, even with drop-last).</summary>
    public int[] Order(int epoch)
    {
        var order = Enumerable.Range(0, Dataset.Count).ToArray();
        if (Shuffle) DataSeeds.Shuffle(Seed, epoch).Shuffle(order.AsSpan());
        return order;
    }

    private IEnumerable<Batch> Batches(int epoch, int[] order)
    {
        int count = BatchCount;
        Task<Batch>? next = null;
        try
        {
            for (int b = 0; b < count; b++)
            {
                Batch batch = next is null ? Build(epoch, order, b) : next.GetAwaiter().GetResult();
                next = null;
                if (Prefetch && b + 1 < count)
                {
                    int following = b + 1;
                    next = Task.Run(() => Build(epoch, order, following));
                }
                yield return batch;
            }
        }
        finally
        {
            // The consumer stopped early (break or exception): the prepared batch is nobody's, so free it here.
            if (next is not null)
            {
                Task.WaitAny(next); // waits without rethrowing: a failure preparing a batch nobody will read is moot
                if (next.IsCompletedSuccessfully) next.Result.Dispose();
            }
        }
    }

    private Batch Build(int epoch, int[] order, int batchIndex)
    {
        int start = batchIndex * BatchSize, n = Math.Min(BatchSize, Dataset.Count - start);
        int channels = Dataset.Channels, height = Dataset.Height, width = Dataset.Width, size = Dataset.ImageSize;
        var indices = order.AsSpan(start, n).ToArray();
        var labels = new int[n];
        var images = Tensor.Empty(n, channels, height, width);
        var all = images.Span;
        for (int i = 0; i < n; i++)
        {
            int index = indices[i];
            labels[i] = Dataset.Label(index);
            var pixels = Dataset.Image(index);
            var image = all.Slice(i * size, size);
            for (int k = 0; k < size; k++) image[k] = pixels[k] / 255f;
            if (_augmentations.Length > 0)
            {
                var rng = DataSeeds.Augment(Seed, epoch, index);
                foreach (var augmentation in _augmentations) augmentation.Apply(image, channels, height, width, rng);
            }
            Normalization.Apply(image, channels);
        }
        return new Batch(images, labels, indices);
    }
}
