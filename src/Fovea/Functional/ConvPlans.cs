using Fovea.Kernels;

namespace Fovea;

/// <summary>
/// Forward plans of the implicit (or Winograd) convolution, and weights packed for the channel-vectorised one, kept per weight tensor, so that inference does not
/// repack (or re-transform) the same weights on every call: at batch 1 packing was a sixth of a conv's time.
/// A plan is reused only while the weights still hold exactly the values it was built from, so nothing goes stale
/// whoever changes them: an optimizer step, a state-dict load, a user's in-place edit. While the tensor's
/// <see cref="Tensor.Version"/> stands still (nobody took its storage writable) that holds without looking; otherwise the
/// values are compared in full with a kept copy (one read per weight, a fraction of packing, but a tenth of a batch-1
/// inference of ResNet-style models; see <see cref="PerWeight{TKey, TValue}"/>). Plans are immutable once built and may be
/// run by several threads at once; a replaced plan is left to the garbage collector, since another thread may still run it.
/// </summary>
internal static class ConvPlans
{
    private static readonly PerWeight<(ConvGeometry Shape, bool Winograd), ImplicitConv> Plans = new();
    private static readonly PerWeight<ConvGeometry, ChannelVectorConv.Packed> Packed = new();
    private static readonly PerWeight<ConvGeometry, Tensor> Crops = new();
    private static readonly PerWeight<ConvGeometry, float[]> DepthwiseFactors = new();
    private static readonly PerWeight<ConvGeometry, DepthwiseToPixel.Taps> PixelTaps = new();

    /// <summary>The forward plan for <paramref name="weight"/> in geometry <paramref name="g"/>, built on a miss.</summary>
    public static ImplicitConv ForOutput(ConvGeometry g, Tensor weight)
    {
        // The batch size only matters for whether Winograd pays; the plan itself is the same for any batch.
        bool winograd = WinogradConv.Supports(g, Gemm.DefaultKernel) && WinogradConv.Pays(g);
        return Plans.GetOrBuild(weight, (g with { Batch = 1 }, winograd), (g, winograd),
            static (s, values) => ImplicitConv.ForOutput(s.g, values, Gemm.DefaultKernel, s.winograd));
    }

    /// <summary>The weights of <paramref name="weight"/> packed for <see cref="ChannelVectorConv"/> in geometry <paramref name="g"/>, packed on a miss.</summary>
    public static ChannelVectorConv.Packed ForChannelVector(ConvGeometry g, Tensor weight) =>
        Packed.GetOrBuild(weight, g with { Batch = 1 }, g, static (g, values) => new ChannelVectorConv.Packed(g, values));

    /// <summary>The weights of <paramref name="weight"/> laid out for <see cref="SmallPlaneDepthwise"/> in geometry <paramref name="g"/>, on a miss.</summary>
    public static float[] ForSmallPlaneDepthwise(ConvGeometry g, Tensor weight) =>
        DepthwiseFactors.GetOrBuild(weight, g with { Batch = 1 }, g, static (g, values) => SmallPlaneDepthwise.Factors(g, values));

    /// <summary>The taps of <paramref name="weight"/> for <see cref="DepthwiseToPixel"/> in geometry <paramref name="g"/>, on a miss.</summary>
    public static DepthwiseToPixel.Taps ForDepthwiseToPixel(ConvGeometry g, Tensor weight) =>
        PixelTaps.GetOrBuild(weight, g with { Batch = 1 }, g, static (g, values) => new DepthwiseToPixel.Taps(g, values));

    /// <summary>
    /// The taps of <paramref name="weight"/> that <paramref name="cropped"/> keeps of <paramref name="g"/>
    /// (<see cref="KernelCrop"/>), gathered on a miss. Owned here: callers never dispose it. Being kept, the cropped
    /// tensor in turn keeps its own plans.
    /// </summary>
    public static Tensor ForCrop(ConvGeometry g, ConvGeometry cropped, Tensor weight) =>
        Crops.GetOrBuild(weight, g with { Batch = 1 }, (g, cropped), static (s, values) => KernelCrop.Weight(s.g, s.cropped, values));
}
