namespace Fovea.Analysis;

/// <summary>
/// A <see cref="CostModel"/> in plain sentences: per convolution what parameter sharing saves against
/// its locally connected twin and sparsity plus sharing against its dense twin, what sparse interactions
/// save in multiply-adds, what a dense first layer would need at this image size, and which layers are
/// built for another size.
/// </summary>
public static class CostSentences
{
    public static IReadOnlyList<string> Of(CostModel costs)
    {
        ArgumentNullException.ThrowIfNull(costs);
        var lines = new List<string>();
        int index = 0;
        foreach (var conv in costs.Convolutions)
        {
            index++;
            lines.Add($"conv{index} (layer {conv.Name}, {conv.InChannels}→{conv.OutChannels}): {Quantities.Ratio(conv.LocallyConnectedRatio)}× fewer weights than its locally connected twin " +
                $"({Quantities.Count(conv.LocallyConnectedParameters)}, {Quantities.Bytes(conv.LocallyConnectedBytes)}) and {Quantities.Ratio(conv.DenseRatio)}× fewer than a dense layer between the same shapes " +
                $"({Quantities.Count(conv.DenseParameters)}, {Quantities.Bytes(conv.DenseBytes)}); it has {Quantities.Count(conv.Parameters)} ({Quantities.Bytes(conv.WeightBytes)}).");
            string window = $"{conv.KernelHeight}·{conv.KernelWidth}·{conv.InChannels}{(conv.Groups == 1 ? "" : $"/{conv.Groups}")}";
            lines.Add($"conv{index}: each output reads {window} = {Quantities.Count(conv.WindowInputs)} inputs instead of all {Shape(conv.Input)} = {Quantities.Count(conv.InputsPerImage)}: " +
                $"{Quantities.Count(conv.Macs)} multiply-adds per image against {Quantities.Count(conv.DenseMacs)} for the dense layer ({Quantities.Ratio(conv.DenseMacsRatio)}× fewer).");
        }
        if (FirstDenseAlternative(costs) is { } first) lines.Add(first);
        foreach (var row in costs.Layers.Where(l => l.SizeMismatch is not null))
            lines.Add($"Layer {row.Name} is built for another image size ({row.SizeMismatch}); costed as {row.Layer}: {Quantities.Count(row.Parameters)} weights ({Quantities.Bytes(row.WeightBytes)}). " +
                "Layers with unshared weights per position or per flattened feature fix H×W when they are built.");
        return lines;
    }

    /// <summary>The first layer with weights, as a dense layer on this image: the first conv's dense twin, or a first Linear as it stands.</summary>
    private static string? FirstDenseAlternative(CostModel costs)
    {
        var first = costs.Layers.FirstOrDefault(l => l.Parameters > 0);
        if (first?.Convolutions.FirstOrDefault() is { } conv)
            return $"A dense layer from {Shape(conv.Input)} to {Shape(conv.Output)} in place of the first convolution would need {Quantities.Count(conv.DenseParameters)} weights ({Quantities.Bytes(conv.DenseBytes)}).";
        if (first is not null && first.Kind == nameof(Nn.Linear))
            return $"The first layer is dense: on {Shape(costs.Input)} images {first.Layer} needs {Quantities.Count(first.Parameters)} weights ({Quantities.Bytes(first.WeightBytes)}).";
        return null;
    }

    /// <summary>"3×2048×2048" for [1, 3, 2048, 2048].</summary>
    public static string Shape(TensorShape image) => string.Join("×", image.ToArray().Skip(1));
}
