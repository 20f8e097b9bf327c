using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Fovea.Kernels;

namespace Fovea;

/// <summary>
/// Forward plans of the implicit (or Winograd) convolution, and weights packed for the channel-vectorised one, kept per weight tensor, so that inference does not
/// repack (or re-transform) the same weights on every call: at batch 1 packing was a sixth of a conv's time.
/// A plan is reused only while the weights still hold exactly the values it was built from, so nothing goes stale
/// whoever changes them: an optimizer step, a state-dict load, a user's in-place edit. While the tensor's
/// <see cref="Tensor.Version"/> stands still (nobody took its storage writable) that holds without looking; otherwise the
/// values are compared in full with a kept copy (one read per weight, a fraction of packing, but a tenth of a batch-1
/// inference of ResNet-style models). Plans are immutable once built and may be run by several threads at once; a
/// replaced plan is left to the garbage collector, since another thread may still run it.
/// </summary>
internal static class ConvPlans
{
    private static readonly PerWeight<(ConvGeometry Shape, bool Winograd), ImplicitConv> Plans = new();
    private static readonly PerWeight<ConvGeometry, ChannelVectorConv.Packed> Packed = new();
    private static readonly PerWeight<ConvGeometry, Tensor> Crops = new();
    private static readonly PerWeight<ConvGeometry, float[]> DepthwiseFactors = new();

    /// <summary>The forward plan for <paramref name="weight"/> in geometry <paramref name="g"/>, built on a miss.</summary>
    public static ImplicitConv ForOutput(ConvGeometry g, Tensor weight)
    {
        var kernel = Gemm.DefaultKernel;
        // The batch size only matters for whether Winograd pays; the plan itself is the same for any batch.
        bool winograd = WinogradConv.Supports(g, kernel) && WinogradConv.Pays(g);
        var key = (g with { Batch = 1 }, winograd);
        if (Plans.TryGet(weight, key, out var plan)) return plan;
        int version = weight.Version;
        plan = ImplicitConv.ForOutput(g, weight.Values, kernel, winograd);
        Plans.Keep(weight, key, version, plan);
        return plan;
    }

    /// <summary>The weights of <paramref name="weight"/> packed for <see cref="ChannelVectorConv"/> in geometry <paramref name="g"/>, packed on a miss.</summary>
    public static ChannelVectorConv.Packed ForChannelVector(ConvGeometry g, Tensor weight)
    {
        var key = g with { Batch = 1 };
        if (Packed.TryGet(weight, key, out var packed)) return packed;
        int version = weight.Version;
        packed = new ChannelVectorConv.Packed(g, weight.Values);
        Packed.Keep(weight, key, version, packed);
        return packed;
    }

    /// <summary>The weights of <paramref name="weight"/> laid out for <see cref="SmallPlaneDepthwise"/> in geometry <paramref name="g"/>, on a miss.</summary>
    public static float[] ForSmallPlaneDepthwise(ConvGeometry g, Tensor weight)
    {
        var key = g with { Batch = 1 };
        if (DepthwiseFactors.TryGet(weight, key, out var factors)) return factors;
        int version = weight.Version;
        factors = SmallPlaneDepthwise.Factors(g, weight.Values);
        DepthwiseFactors.Keep(weight, key, version, factors);
        return factors;
    }

    /// <summary>
    /// The taps of <paramref name="weight"/> that <paramref name="cropped"/> keeps of <paramref name="g"/>
    /// (<see cref="KernelCrop"/>), gathered on a miss. Owned here: callers never dispose it. Being kept, the cropped
    /// tensor in turn keeps its own plans.
    /// </summary>
    public static Tensor ForCrop(ConvGeometry g, ConvGeometry cropped, Tensor weight)
    {
        var key = g with { Batch = 1 };
        if (Crops.TryGet(weight, key, out var kept)) return kept;
        int version = weight.Version;
        kept = KernelCrop.Weight(g, cropped, weight);
        Crops.Keep(weight, key, version, kept);
        return kept;
    }

    /// <summary>One value per weight tensor, reused only under the same key while the tensor holds the bits it was built from.</summary>
    private sealed class PerWeight<TKey, TValue> where TValue : class
    {
        /// <summary>Built from <paramref name="Weights"/>, which the tensor still held at <paramref name="Version"/>.</summary>
        private sealed record Entry(TKey Key, float[] Weights, int Version, TValue Value);

        private readonly ConditionalWeakTable<Tensor, Entry> _entries = new();

        public bool TryGet(Tensor weight, TKey key, [MaybeNullWhen(false)] out TValue value)
        {
            value = null;
            if (!_entries.TryGetValue(weight, out var entry) || !EqualityComparer<TKey>.Default.Equals(entry.Key, key)) return false;
            int version = weight.Version;
            if (version != entry.Version)
            {
                // Handed out writable since: compare, and if nothing changed, trust the new version from now on.
                if (!SameBits(weight.Values, entry.Weights)) return false;
                _entries.AddOrUpdate(weight, entry with { Version = version });
            }
            value = entry.Value;
            return true;
        }

        /// <summary>Keeps <paramref name="value"/>, built from the weights as they were at <paramref name="version"/> (read before them).</summary>
        public void Keep(Tensor weight, TKey key, int version, TValue value) =>
            _entries.AddOrUpdate(weight, new Entry(key, weight.Values.ToArray(), version, value));
    }

    // Bits, not float equality: a vectorised memory compare (float's SequenceEqual goes element by element, as slow
    // as the packing it saves), and a NaN or a sign of zero that changed is a change.
    private static bool SameBits(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b));
}
