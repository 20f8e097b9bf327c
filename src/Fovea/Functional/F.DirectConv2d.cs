using Fovea.Kernels;

namespace Fovea;

public static partial class F
{
    /// <summary>Depthwise convolutions and small strided stems: vectorised along rows (depthwise at stride 1 or 2 reading the input in place), or (depthwise) across channels where rows are short (in blocks of 16 with AVX-512).</summary>
    private static void DirectConv2dForward(ConvGeometry g, Tensor x, Tensor weight, Tensor? bias, Tensor y,
        float low = float.NegativeInfinity, float high = float.PositiveInfinity)
    {
        if (PackedRowsDepthwise.Supports(g)) PackedRowsDepthwise.Forward(g, x.Data, weight.Data, bias?.Data, y.Data, low, high);
        else if (BlockedDepthwise.Supports(g)) BlockedDepthwise.Forward(g, x.Data, weight.Data, bias?.Data, y.Data, low, high);
        else if (DepthwiseConvByChannels.Supports(g)) DepthwiseConvByChannels.Forward(g, x.Data, weight.Data, bias?.Data, y.Data, low, high);
        else if (DepthwiseRows.Supports(g)) DepthwiseRows.Forward(g, x.Data, weight.Data, bias?.Data, y.Data, low, high);
        else DirectConv.Forward(g, x.Data, weight.Data, bias?.Data, y.Data, low, high);
    }

    /// <summary>dX by planes (no sum crosses threads); dW and dBias by channel blocks, or by chunks of the batch added in order.</summary>
    private static void DepthwiseConv2dBackward(ConvGeometry g, Tensor x, Tensor weight, Tensor? bias, float[] dy)
    {
        bool byChannels = DepthwiseConvByChannels.Supports(g);
        if (x.RequiresGrad)
        {
            float[] dx = ChunkedGradient.GradientArray(x);
            if (byChannels) DepthwiseConvByChannels.InputGradient(g, dy, weight.Data, dx);
            else DirectConv.InputGradient(g, dy, weight.Data, dx);
        }
        if (byChannels)
        {
            float[]? dw = weight.RequiresGrad ? ChunkedGradient.GradientArray(weight) : null;
            float[]? db = bias is not null && bias.RequiresGrad ? ChunkedGradient.GradientArray(bias) : null;
            if (dw is not null || db is not null) DepthwiseConvByChannels.ParameterGradients(g, x.Data, dy, dw, db);
            return;
        }
        // The row kernel sums parameter gradients over a chunk of the batch; the chunks are added in order.
        int chunks = Parallelism.ChunkCount(g.Batch, DirectConv.ItemsPerChunk((long)g.OutChannels * g.OutPixels * g.KernelHeight * g.KernelWidth));
        var dwChunks = weight.RequiresGrad ? new ChunkedGradient(weight, chunks) : null;
        var dbChunks = bias is not null && bias.RequiresGrad ? new ChunkedGradient(bias, chunks) : null;
        if (dwChunks is null && dbChunks is null) return;
        float[] xs = x.Data;
        ChunkedGradient.ForEachChunk(g.Batch, chunks, (chunk, start, end) =>
            DirectConv.ParameterGradients(g, xs, dy, start, end - start, dwChunks is null ? default : dwChunks.For(chunk), dbChunks is null ? default : dbChunks.For(chunk)));
        dwChunks?.Reduce();
        dbChunks?.Reduce();
    }
}
