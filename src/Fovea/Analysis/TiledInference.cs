using Fovea.Nn;

namespace Fovea.Analysis;

/// <summary>
/// Runs a fully convolutional stack (see <see cref="ConvolutionalPart"/>) on an image too large to hold all
/// its activations at once, tile by tile, with the same result as one run on the whole image.
/// <para>Each tile owns tile/jump output positions per axis (the jump being the stack's cumulative stride,
/// so the tile size must be a multiple of it). It reads the input pixels those outputs' receptive field
/// covers — the owned block plus a halo — from an origin that is a multiple of the jump, so every layer
/// inside the tile samples the same positions as in the whole run; a tile that reaches the image's edge
/// ends exactly there, so its padding is the image's. The tile's outputs beyond the owned ones saw the tile's
/// own padding and are cropped. Memory is then bounded by one tile's activations plus the output.</para>
/// </summary>
public static class TiledInference
{
    /// <summary>
    /// The output of <paramref name="features"/> on <paramref name="image"/> [N, C, H, W], computed in tiles of
    /// <paramref name="tile"/>×<paramref name="tile"/> input pixels (plus the halo), in evaluation mode without recording.
    /// </summary>
    public static Tensor Run(Module features, Tensor image, int tile)
    {
        var plan = TilePlan.Of(features, image, tile);
        var output = Tensor.Empty(plan.OutputShape);
        try
        {
            using (features.Inference())
            {
                foreach (var rows in plan.Rows)
                    foreach (var columns in plan.Columns)
                    {
                        using var patch = Crop(image, rows.InputStart, rows.InputEnd, columns.InputStart, columns.InputEnd);
                        using var result = ForwardFreeing(features, patch);
                        int rowOffset = (int)(rows.InputStart / plan.Field.Height.Jump), columnOffset = (int)(columns.InputStart / plan.Field.Width.Jump);
                        if (result.Shape[2] < rows.OutputEnd - rowOffset || result.Shape[3] < columns.OutputEnd - columnOffset)
                            throw new InvalidOperationException($"TiledInference: a tile of input rows {rows.InputStart}…{rows.InputEnd} gave {result.Shape}, too small for outputs {rows.OutputStart}…{rows.OutputEnd}: a layer does not follow its receptive field.");
                        Paste(result, rows.OutputStart - rowOffset, columns.OutputStart - columnOffset, output, rows, columns);
                    }
            }
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    /// <summary>The same stack on the whole image in one piece, freeing each activation once the next layer has read it: the baseline tiles are compared with.</summary>
    public static Tensor RunWhole(Module features, Tensor image)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(image);
        using (features.Inference()) return ForwardFreeing(features, image);
    }

    /// <summary>Runs a Sequential layer by layer, returning each intermediate to the pool as soon as the next layer has produced its output; the result is a new tensor, never <paramref name="input"/>.</summary>
    private static Tensor ForwardFreeing(Module module, Tensor input)
    {
        var h = input;
        foreach (var layer in module is Sequential sequential ? sequential.Layers : [module])
        {
            var next = layer is Sequential ? ForwardFreeing(layer, h) : layer.Forward(h);
            if (!ReferenceEquals(h, input) && !ReferenceEquals(h, next)) h.Dispose();
            h = next;
        }
        return ReferenceEquals(h, input) ? input.Clone() : h;
    }

    /// <summary>Rows [top, bottom) and columns [left, right) of every image and channel.</summary>
    private static Tensor Crop(Tensor image, long top, long bottom, long left, long right)
    {
        int n = image.Shape[0], c = image.Shape[1], h = image.Shape[2], w = image.Shape[3];
        int height = (int)(bottom - top), width = (int)(right - left);
        var patch = Tensor.Empty(n, c, height, width);
        var source = image.Span;
        var target = patch.Span;
        for (int plane = 0; plane < n * c; plane++)
            for (int y = 0; y < height; y++)
                source.Slice(plane * h * w + (int)(top + y) * w + (int)left, width).CopyTo(target.Slice((plane * height + y) * width, width));
        return patch;
    }

    /// <summary>Copies the owned outputs of a tile's result, which start at (<paramref name="top"/>, <paramref name="left"/>) in it, into place.</summary>
    private static void Paste(Tensor result, long top, long left, Tensor output, TileSpan rows, TileSpan columns)
    {
        int planes = output.Shape[0] * output.Shape[1], outH = output.Shape[2], outW = output.Shape[3];
        int resultH = result.Shape[2], resultW = result.Shape[3];
        int height = (int)(rows.OutputEnd - rows.OutputStart), width = (int)(columns.OutputEnd - columns.OutputStart);
        var source = result.Span;
        var target = output.Span;
        for (int plane = 0; plane < planes; plane++)
            for (int y = 0; y < height; y++)
                source.Slice((plane * resultH + (int)top + y) * resultW + (int)left, width)
                    .CopyTo(target.Slice((plane * outH + (int)rows.OutputStart + y) * outW + (int)columns.OutputStart, width));
    }
}
