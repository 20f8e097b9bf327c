namespace Fovea.Analysis;

/// <summary>
/// What a layer's backward pass needs kept from the forward pass: its input, its output, and state of
/// its own (max pooling's argmax, batch norm's per-channel statistics, dropout's mask), in bytes.
/// <see cref="Rule"/> says which, in words.
/// </summary>
public sealed record SavedForBackward(bool Input, bool Output, long ExtraBytes, string Rule)
{
    public static SavedForBackward Nothing { get; } = new(false, false, 0, "nothing");
    public static SavedForBackward TheInput { get; } = new(true, false, 0, "input");
    public static SavedForBackward TheOutput { get; } = new(false, true, 0, "output");
}

/// <summary>
/// One row of a <see cref="CostModel"/>: a leaf layer (or a residual block, with its inner convolutions,
/// shortcut and sum) for one image. Bytes are float32 (int32 for indices).
/// </summary>
public sealed record LayerCost
{
    public const int BytesPerValue = sizeof(float);

    /// <summary>The layer's path in the model, PyTorch's state-dict prefix ("3", "features.0").</summary>
    public required string Name { get; init; }

    /// <summary>The layer's class: "Conv2d", "BasicBlock", "Linear".</summary>
    public required string Kind { get; init; }

    /// <summary>The layer's description; for a layer built for another input size, the same layer rebuilt for this one.</summary>
    public required string Layer { get; init; }

    public required TensorShape InputShape { get; init; }
    public required TensorShape OutputShape { get; init; }
    public required long Parameters { get; init; }

    /// <summary>Multiply-adds per image (weights × the positions they are applied at; pooling, normalisation and activations count as free).</summary>
    public required long Macs { get; init; }

    public required SavedForBackward Saved { get; init; }

    /// <summary>The receptive field of the outputs in input pixels; null once the layer's outputs have no spatial layout (after Flatten or Linear: each sees the whole image) or no regular window (uneven adaptive pooling, a softmax across a spatial axis). See <see cref="Analysis.ReceptiveField.Through"/>.</summary>
    public required ReceptiveField? ReceptiveField { get; init; }

    /// <summary>Each Conv2d of this row (a residual block has two or three) beside its locally connected and dense twins.</summary>
    public IReadOnlyList<ConvTwins> Convolutions { get; init; } = [];

    /// <summary>
    /// Null when the layer takes this input. Otherwise why it does not (a Linear or LocallyConnected2d is
    /// built for one input size): the costs are then those of the same layer rebuilt for this input.
    /// </summary>
    public string? SizeMismatch { get; init; }

    public long WeightBytes => checked(Parameters * BytesPerValue);

    /// <summary>Bytes of this layer's output: what inference holds for it until the next layer has read it.</summary>
    public long OutputBytes => (long)OutputShape.Length * BytesPerValue;

    public long InputBytes => (long)InputShape.Length * BytesPerValue;

    /// <summary>Bytes this layer's backward needs by its own rule (tensors shared with a neighbour's rule counted here too).</summary>
    public long TrainingBytes => (Saved.Input ? InputBytes : 0) + (Saved.Output ? OutputBytes : 0) + Saved.ExtraBytes;
}
