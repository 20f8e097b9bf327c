using Fovea.Nn;

namespace Fovea.Analysis;

/// <summary>One tile along one axis: the outputs it owns, [OutputStart, OutputEnd), and the input it reads, [InputStart, InputEnd).</summary>
public readonly record struct TileSpan(long OutputStart, long OutputEnd, long InputStart, long InputEnd);

/// <summary>How <see cref="TiledInference"/> cuts an image: the stack's receptive field and output shape, and the tiles per axis.</summary>
public sealed record TilePlan(ReceptiveField Field, TensorShape OutputShape, IReadOnlyList<TileSpan> Rows, IReadOnlyList<TileSpan> Columns)
{
    /// <summary>Plans tiles of <paramref name="tile"/> input pixels per axis for <paramref name="features"/> on <paramref name="image"/> [N, C, H, W].</summary>
    public static TilePlan Of(Module features, Tensor image, int tile)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(image);
        if (image.Rank != 4) throw new ArgumentException($"TiledInference: expected an image [N, C, H, W], received {image.Shape}");
        if (ConvolutionalPart.FirstNonLocal(features) is var (name, layer))
            throw new ArgumentException($"TiledInference: the stack must be fully convolutional (ConvolutionalPart.Of gives such a stack); layer {name} ({layer}) is not.");
        var costs = CostModel.Of(features, image.Shape[1], image.Shape[2], image.Shape[3]);
        var field = costs.ReceptiveField!;
        if (tile <= 0 || tile % field.Height.Jump != 0 || tile % field.Width.Jump != 0)
            throw new ArgumentException($"TiledInference: the tile size must be a positive multiple of the stack's jump ({field.Height.Jump}×{field.Width.Jump}, its cumulative stride). Received {tile}");
        int[] dims = costs.Layers.Count == 0 ? image.Shape.ToArray() : costs.Layers[^1].OutputShape.ToArray();
        dims[0] = image.Shape[0];
        var output = new TensorShape(dims);
        return new TilePlan(field, output, Spans(field.Height, tile, image.Shape[2], output[2]), Spans(field.Width, tile, image.Shape[3], output[3]));
    }

    /// <summary>Owned outputs in runs of tile/jump; each run's input from its receptive field, the start rounded down to a multiple of the jump, clipped to the image.</summary>
    private static List<TileSpan> Spans(AxisField field, int tile, int inputSize, int outputSize)
    {
        long perTile = tile / field.Jump;
        var spans = new List<TileSpan>();
        for (long start = 0; start < outputSize; start += perTile)
        {
            long end = Math.Min(outputSize, start + perTile);
            long first = Math.Max(0, field.FirstPixel(start)) / field.Jump * field.Jump;
            long last = Math.Min(inputSize - 1, field.LastPixel(end - 1));
            spans.Add(new TileSpan(start, end, first, last + 1));
        }
        return spans;
    }
}
