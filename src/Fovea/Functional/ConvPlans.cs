using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Fovea.Kernels;

namespace Fovea;

/// <summary>
/// Forward plans of the implicit (or Winograd) convolution, and weights packed for the channel-vectorised one, kept per weight tensor, so that inference does not
/// repack (or re-transform) the same weights on every call: at batch 1 packing was a sixth of a conv's time.
/// A plan is reused only while the weights still hold exactly the values it was built from (compared in full,
/// which costs one read per weight, a fraction of packing), so nothing goes stale whoever changes them:
/// an optimizer step, a state-dict load, a user's in-place edit. Plans are immutable once built and may be run
/// by several threads at once; a replaced plan is left to the garbage collector, since another thread may still run it.
/// </summary>
internal static class ConvPlans
{
    private sealed record Entry(ConvGeometry Shape, bool Winograd, float[] Weights, ImplicitConv Plan);

    private static readonly ConditionalWeakTable<Tensor, Entry> Cache = new();

    /// <summary>The forward plan for <paramref name="weight"/> in geometry <paramref name="g"/>, built on a miss.</summary>
    public static ImplicitConv ForOutput(ConvGeometry g, Tensor weight)
    {
        var kernel = Gemm.DefaultKernel;
        // The batch size only matters for whether Winograd pays; the plan itself is the same for any batch.
        var shape = g with { Batch = 1 };
        bool winograd = WinogradConv.Supports(g, kernel) && WinogradConv.Pays(g);
        ReadOnlySpan<float> values = weight.Span;
        if (Cache.TryGetValue(weight, out var entry) && entry.Shape == shape && entry.Winograd == winograd && SameBits(values, entry.Weights))
            return entry.Plan;
        var plan = ImplicitConv.ForOutput(g, values, kernel, winograd);
        Cache.AddOrUpdate(weight, new Entry(shape, winograd, values.ToArray(), plan));
        return plan;
    }

    private sealed record PackedEntry(ConvGeometry Shape, float[] Weights, ChannelVectorConv.Packed Packed);

    private static readonly ConditionalWeakTable<Tensor, PackedEntry> PackedCache = new();

    /// <summary>The weights of <paramref name="weight"/> packed for <see cref="ChannelVectorConv"/> in geometry <paramref name="g"/>, packed on a miss.</summary>
    public static ChannelVectorConv.Packed ForChannelVector(ConvGeometry g, Tensor weight)
    {
        var shape = g with { Batch = 1 };
        ReadOnlySpan<float> values = weight.Span;
        if (PackedCache.TryGetValue(weight, out var entry) && entry.Shape == shape && SameBits(values, entry.Weights))
            return entry.Packed;
        var packed = new ChannelVectorConv.Packed(g, values);
        PackedCache.AddOrUpdate(weight, new PackedEntry(shape, values.ToArray(), packed));
        return packed;
    }

    // Bits, not float equality: a vectorised memory compare (float's SequenceEqual goes element by element, as slow
    // as the packing it saves), and a NaN or a sign of zero that changed is a change.
    private static bool SameBits(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b));
}
