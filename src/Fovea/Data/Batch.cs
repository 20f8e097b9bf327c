namespace Fovea.Data;

/// <summary>
/// One mini-batch from a <see cref="DataLoader"/>. The consumer owns it: dispose it once the step
/// that uses it is done, which returns the image storage to the tensor pool (a batch that is not
/// disposed is merely collected later, without reuse).
/// </summary>
public sealed class Batch(Tensor images, int[] labels, int[] indices) : IDisposable
{
    /// <summary>Normalised (and, for training, augmented) images, [B, C, H, W].</summary>
    public Tensor Images { get; } = images;

    /// <summary>The class index of each image.</summary>
    public int[] Labels { get; } = labels;

    /// <summary>Each image's index in the data set.</summary>
    public int[] Indices { get; } = indices;

    /// <summary>Images in this batch (B); the last batch of an epoch may be short.</summary>
    public int Count => Labels.Length;

    public void Dispose() => Images.Dispose();
}
