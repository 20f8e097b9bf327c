using Fovea.Kernels;

namespace Fovea;

public static partial class F
{
    /// <summary>
    /// Convolutions with few output pixels per image: one GEMM per group of images (<see cref="BatchedIm2ColConv"/>),
    /// groups split across threads; a single group runs alone and the GEMM splits its rows instead.
    /// </summary>
    private static void BatchedConv2dForward(ConvGeometry g, Tensor x, Tensor weight, Tensor? bias, Tensor y)
    {
        float[] xs = x.Data, ws = weight.Data, ys = y.Data;
        float[]? bs = bias?.Data;
        int images = ImagesPerGroup(g), groups = (g.Batch + images - 1) / images;
        int[] offsets = PixelOffsets(g);
        Parallelism.For(groups, (start, end) =>
        {
            float[] scratch = TensorPool.Rent(BatchedIm2ColConv.ScratchLength(g));
            for (int group = start; group < end; group++)
            {
                int first = group * images;
                BatchedIm2ColConv.Forward(g, offsets, xs, ws, bs.AsSpan(0, bs is null ? 0 : g.OutChannels), ys, first, Math.Min(images, g.Batch - first), scratch);
            }
            TensorPool.Return(scratch);
        });
        TensorPool.ReturnInts(offsets);
    }

    /// <summary>The batched backward: dX per group (disjoint images), dW and dBias summed per chunk of groups through <see cref="ChunkedGradient"/>.</summary>
    private static void BatchedConv2dBackward(ConvGeometry g, Tensor x, Tensor weight, Tensor? bias, float[] dy)
    {
        int images = ImagesPerGroup(g), groups = (g.Batch + images - 1) / images;
        int chunks = Parallelism.ChunkCount(groups);
        var dw = weight.RequiresGrad ? new ChunkedGradient(weight, chunks) : null;
        var db = bias is not null && bias.RequiresGrad ? new ChunkedGradient(bias, chunks) : null;
        float[]? dx = x.RequiresGrad ? ChunkedGradient.GradientArray(x) : null;
        float[] xs = x.Data, ws = weight.Data;
        int[] offsets = PixelOffsets(g);
        ChunkedGradient.ForEachChunk(groups, chunks, (chunk, start, end) =>
        {
            float[] scratch = TensorPool.Rent(BatchedIm2ColConv.ScratchLength(g));
            for (int group = start; group < end; group++)
            {
                int first = group * images;
                BatchedIm2ColConv.Backward(g, offsets, xs, ws, dy, dx, dw is null ? default : dw.For(chunk), db is null ? default : db.For(chunk),
                    first, Math.Min(images, g.Batch - first), scratch);
            }
            TensorPool.Return(scratch);
        });
        dw?.Reduce();
        db?.Reduce();
        TensorPool.ReturnInts(offsets);
    }

    /// <summary>
    /// Images per GEMM: as many as <see cref="BatchedIm2ColConv.ImagesPerGemm"/> allows, but no fewer groups than threads,
    /// since one GEMM of a few hundred rows splits poorly. Depends on the thread count, as the bits may.
    /// </summary>
    private static int ImagesPerGroup(ConvGeometry g) =>
        Math.Min(BatchedIm2ColConv.ImagesPerGemm(g), (g.Batch + Parallelism.Threads - 1) / Parallelism.Threads);

    private static int[] PixelOffsets(ConvGeometry g)
    {
        int length = g.OutPixels * g.KernelHeight * g.KernelWidth;
        int[] offsets = TensorPool.RentInts(length);
        BatchedIm2ColConv.PixelOffsets(g, offsets.AsSpan(0, length));
        return offsets;
    }
}
