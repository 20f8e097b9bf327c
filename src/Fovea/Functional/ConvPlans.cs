using System.Diagnostics.CodeAnalysis;
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
    private static readonly PerWeight<(ConvGeometry Shape, bool Winograd), ImplicitConv> Plans = new();
    private static readonly PerWeight<ConvGeometry, ChannelVectorConv.Packed> Packed = new();

    /// <summary>The forward plan for <paramref name="weight"/> in geometry <paramref name="g"/>, built on a miss.</summary>
    public static ImplicitConv ForOutput(ConvGeometry g, Tensor weight)
    {
        var kernel = Gemm.DefaultKernel;
        // The batch size only matters for whether Winograd pays; the plan itself is the same for any batch.
        bool winograd = WinogradConv.Supports(g, kernel) && WinogradConv.Pays(g);
        var key = (g with { Batch = 1 }, winograd);
        ReadOnlySpan<float> values = weight.Span;
        if (Plans.TryGet(weight, key, values, out var plan)) return plan;
        plan = ImplicitConv.ForOutput(g, values, kernel, winograd);
        Plans.Keep(weight, key, values, plan);
        return plan;
    }

    /// <summary>The weights of <paramref name="weight"/> packed for <see cref="ChannelVectorConv"/> in geometry <paramref name="g"/>, packed on a miss.</summary>
    public static ChannelVectorConv.Packed ForChannelVector(ConvGeometry g, Tensor weight)
    {
        var key = g with { Batch = 1 };
        ReadOnlySpan<float> values = weight.Span;
        if (Packed.TryGet(weight, key, values, out var packed)) return packed;
        packed = new ChannelVectorConv.Packed(g, values);
        Packed.Keep(weight, key, values, packed);
        return packed;
    }

    /// <summary>One value per weight tensor, reused only under the same key while the tensor holds the bits it was built from.</summary>
    private sealed class PerWeight<TKey, TValue> where TValue : class
    {
        private sealed record Entry(TKey Key, float[] Weights, TValue Value);

        private readonly ConditionalWeakTable<Tensor, Entry> _entries = new();

        public bool TryGet(Tensor weight, TKey key, ReadOnlySpan<float> values, [MaybeNullWhen(false)] out TValue value)
        {
            bool hit = _entries.TryGetValue(weight, out var entry) && EqualityComparer<TKey>.Default.Equals(entry.Key, key) && SameBits(values, entry.Weights);
            value = hit ? entry!.Value : null;
            return hit;
        }

        public void Keep(Tensor weight, TKey key, ReadOnlySpan<float> values, TValue value) =>
            _entries.AddOrUpdate(weight, new Entry(key, values.ToArray(), value));
    }

    // Bits, not float equality: a vectorised memory compare (float's SequenceEqual goes element by element, as slow
    // as the packing it saves), and a NaN or a sign of zero that changed is a change.
    private static bool SameBits(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b));
}
