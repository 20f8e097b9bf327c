using System.Numerics.Tensors;
using Fovea.Kernels;

namespace Fovea;

public static partial class F
{
    /// <summary>
    /// A convolution without parameter sharing: the same windows as <see cref="Conv2d(Tensor, Tensor, Tensor?, int, Padding2d, int, int)"/>,
    /// but a separate weight matrix at every output position. x [N, C, H, W]; weight [outH·outW, O, C·kH·kW]
    /// (position p = oh·outW + ow holds an [O, C·kH·kW] matrix, its columns in PyTorch's unfold order (c, ki, kj));
    /// bias [O, outH, outW]. So y[n, :, p] = weight[p] · unfold(x)[n, :, p] + bias[:, p], the
    /// <c>einsum('nkp,pok->nop')</c> of the PyTorch community's LocallyConnected2d.
    /// </summary>
    public static Tensor LocallyConnected2d(Tensor x, Tensor weight, Tensor? bias, int kernelSize, int stride = 1, Padding2d padding = default, int dilation = 1) =>
        LocallyConnected2d(null, x, weight, bias, (kernelSize, kernelSize), (stride, stride), padding, (dilation, dilation));

    /// <summary><see cref="LocallyConnected2d(Tensor, Tensor, Tensor?, int, int, Padding2d, int)"/> with (height, width) sizes.</summary>
    public static Tensor LocallyConnected2d(Tensor x, Tensor weight, Tensor? bias, (int Height, int Width) kernelSize, (int Height, int Width) stride, Padding2d padding, (int Height, int Width) dilation) =>
        LocallyConnected2d(null, x, weight, bias, kernelSize, stride, padding, dilation);

    /// <summary>The op behind both overloads; <paramref name="layer"/> is the calling layer's description, so that misuse messages name the layer (null names the op).</summary>
    internal static Tensor LocallyConnected2d(string? layer, Tensor x, Tensor weight, Tensor? bias,
        (int Height, int Width) kernel, (int Height, int Width) stride, Padding2d padding, (int Height, int Width) dilation)
    {
        if (weight.Rank != 3)
            throw new ArgumentException($"{layer ?? "LocallyConnected2d"}: weight must be [outH·outW, out_channels, in_channels·kH·kW]. Received {weight.Shape}");
        int window = Math.Max(1, kernel.Height * kernel.Width);
        if (weight.Shape[2] % window != 0)
            throw new ArgumentException($"{layer ?? "LocallyConnected2d"}: weight's last axis must be in_channels·{kernel.Height}·{kernel.Width}. Received weight {weight.Shape}");
        int outChannels = weight.Shape[1], inChannels = weight.Shape[2] / window;
        string op = layer ?? $"LocallyConnected2d({inChannels}→{outChannels})";
        var g = ConvGeometry.Of(op, x.Shape, inChannels, outChannels, kernel, stride, padding, dilation);
        if (weight.Shape[0] != g.OutPixels)
            throw new ArgumentException($"{op}: weight {weight.Shape} holds {weight.Shape[0]} positions but input {x.Shape} gives a {g.OutHeight}×{g.OutWidth} output; expected weight [{g.OutPixels}, {outChannels}, {g.WindowLength}]");
        if (bias is not null && bias.Shape != new TensorShape(outChannels, g.OutHeight, g.OutWidth))
            throw new ArgumentException($"{op}: bias must be [{outChannels}, {g.OutHeight}, {g.OutWidth}]. Received {bias.Shape}");

        var y = Tensor.Empty(g.OutputShape);
        float[] xs = x.Data, ws = weight.Data, ys = y.Data;
        float[]? bs = bias?.Data;
        int n = g.Batch, o = outChannels, k = g.WindowLength, p = g.OutPixels;
        // Position-major: each position's weight is read once for the whole batch, as an [N, K]·[K, O] product.
        Parallelism.For(p, (start, end) =>
        {
            float[] windows = TensorPool.Rent(n * k), outputs = TensorPool.Rent(n * o);
            for (int pos = start; pos < end; pos++)
            {
                UnfoldPosition(g, xs, windows, pos);
                Gemm.Sgemm(false, true, n, o, k, 1f, windows.AsSpan(0, n * k), k, ws.AsSpan(pos * o * k, o * k), k, 0f, outputs.AsSpan(0, n * o), o);
                for (int i = 0; i < n; i++)
                    for (int c = 0; c < o; c++)
                        ys[(i * o + c) * p + pos] = outputs[i * o + c] + (bs is null ? 0f : bs[c * p + pos]);
            }
            TensorPool.Return(windows);
            TensorPool.Return(outputs);
        });
        return Autograd.Record(y, "LocallyConnected2d", [x, weight, bias], dy => LocallyConnected2dBackward(g, x, weight, bias, dy.Data));
    }

    /// <summary>
    /// Per position: dW[p] += dY_pᵀ·windows, dBias[:, p] += Σ_n dY_p, dWindows = dY_p·W[p] folded back into dX.
    /// Positions own their weight and bias slices; their windows overlap in dX, so dX goes through
    /// <see cref="ChunkedGradient"/>.
    /// </summary>
    private static void LocallyConnected2dBackward(ConvGeometry g, Tensor x, Tensor weight, Tensor? bias, float[] dy)
    {
        int n = g.Batch, o = g.OutChannels, k = g.WindowLength, p = g.OutPixels;
        int chunks = Parallelism.ChunkCount(p);
        var dx = x.RequiresGrad ? new ChunkedGradient(x, chunks) : null;
        float[]? dw = weight.RequiresGrad ? ChunkedGradient.GradientArray(weight) : null;
        float[]? db = bias is not null && bias.RequiresGrad ? ChunkedGradient.GradientArray(bias) : null;
        float[] xs = x.Data, ws = weight.Data;
        ChunkedGradient.ForEachChunk(p, chunks, (chunk, start, end) =>
        {
            float[] windows = TensorPool.Rent(n * k), dyPos = TensorPool.Rent(n * o);
            var dxChunk = dx is null ? default : dx.For(chunk);
            for (int pos = start; pos < end; pos++)
            {
                for (int i = 0; i < n; i++)
                    for (int c = 0; c < o; c++)
                        dyPos[i * o + c] = dy[(i * o + c) * p + pos];
                var dyMatrix = dyPos.AsSpan(0, n * o);
                if (db is not null)
                {
                    for (int i = 0; i < n; i++)
                        for (int c = 0; c < o; c++)
                            db[c * p + pos] += dyMatrix[i * o + c];
                }
                if (dw is not null)
                {
                    UnfoldPosition(g, xs, windows, pos);
                    Gemm.Sgemm(true, false, o, k, n, 1f, dyMatrix, o, windows.AsSpan(0, n * k), k, 1f, dw.AsSpan(pos * o * k, o * k), k);
                }
                if (dx is not null)
                {
                    var dWindows = windows.AsSpan(0, n * k);
                    Gemm.Sgemm(false, false, n, k, o, 1f, dyMatrix, o, ws.AsSpan(pos * o * k, o * k), k, 0f, dWindows, k);
                    int imageLength = g.InChannels * g.InPixels;
                    for (int i = 0; i < n; i++)
                        Im2Col.FoldAddWindow(dWindows.Slice(i * k, k), dxChunk.Slice(i * imageLength, imageLength), g, pos / g.OutWidth, pos % g.OutWidth);
                }
            }
            TensorPool.Return(windows);
            TensorPool.Return(dyPos);
        });
        dx?.Reduce();
    }

    /// <summary>The window of output position <paramref name="pos"/> for every image, as rows of an [N, K] matrix.</summary>
    private static void UnfoldPosition(ConvGeometry g, float[] nchw, float[] windows, int pos)
    {
        int k = g.WindowLength, imageLength = g.InChannels * g.InPixels;
        for (int i = 0; i < g.Batch; i++)
            Im2Col.UnfoldWindow(nchw.AsSpan(i * imageLength, imageLength), windows.AsSpan(i * k, k), g, pos / g.OutWidth, pos % g.OutWidth);
    }
}
