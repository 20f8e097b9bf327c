using System.Numerics.Tensors;

namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// ONNX's local response normalisation across channels of x [N, C, …]:
/// y = x / (bias + alpha/size · Σ x²)^beta, the sum over channels c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉ clipped
/// to [0, C). Inference only. Each output plane is computed by one thread, summing its channels in order.
/// </summary>
internal static class LrnKernel
{
    private const int Grain = 1 << 15;

    public static unsafe void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, int channels, int plane, int size, float alpha, float beta, float bias)
    {
        if (input.Length != batch * channels * plane || output.Length != input.Length)
            throw new ArgumentException($"LRN kernel: {input.Length} inputs and {output.Length} outputs for [{batch}, {channels}, {plane}]");
        fixed (float* xs = input, ys = output)
            Run(new PinnedSpan<float>(xs, input.Length), new PinnedSpan<float>(ys, output.Length), batch, channels, plane, size, alpha, beta, bias);
    }

    private static void Run(PinnedSpan<float> x, PinnedSpan<float> y, int batch, int channels, int plane, int size, float alpha, float beta, float bias)
    {
        int before = (size - 1) / 2, after = size - 1 - before;
        float scale = alpha / size;
        Parallelism.For(batch * channels, (k0, k1) =>
        {
            float[] scratch = TensorPool.Rent(plane);
            var denominator = scratch.AsSpan(0, plane);
            for (int k = k0; k < k1; k++)
            {
                int n = k / channels, c = k % channels;
                denominator.Clear();
                for (int other = Math.Max(0, c - before); other <= Math.Min(channels - 1, c + after); other++)
                {
                    var neighbour = x.Slice((n * channels + other) * plane, plane);
                    TensorPrimitives.MultiplyAdd(neighbour, neighbour, denominator, denominator);
                }
                TensorPrimitives.Multiply(denominator, scale, denominator);
                TensorPrimitives.Add(denominator, bias, denominator);
                TensorPrimitives.Pow(denominator, -beta, denominator);
                TensorPrimitives.Multiply(x.Slice(k * plane, plane), denominator, y.Slice(k * plane, plane));
            }
            TensorPool.Return(scratch);
        }, Math.Max(1, Grain / Math.Max(1, plane * size)));
    }
}
