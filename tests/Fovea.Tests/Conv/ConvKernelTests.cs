using Fovea.Kernels;
using Fovea.Tests.Support;

namespace Fovea.Tests.Conv;

/// <summary>The im2col kernels and the convolution forward against naive loops written from the definitions.</summary>
public class ConvKernelTests
{
    /// <summary>Odd geometries: non-square kernels, strides, asymmetric "same", dilation, groups, windows mostly in padding.</summary>
    public static TheoryData<string> Geometries => new(GeometryCases.Keys);

    private static readonly Dictionary<string, ConvGeometry> GeometryCases = new()
    {
        ["k3x2_s2x3_p1x2_d2x1"] = ConvGeometry.Of("test", new TensorShape(1, 3, 7, 11), 3, 2, (3, 2), (2, 3), (1, 2), (2, 1)),
        ["k5x3_same_d1x2_groups2"] = ConvGeometry.Of("test", new TensorShape(2, 4, 5, 9), 4, 6, (5, 3), (1, 1), Padding2d.Same, (1, 2), groups: 2),
        ["k4x2_same_asymmetric"] = ConvGeometry.Of("test", new TensorShape(1, 2, 7, 5), 2, 3, (4, 2), (1, 1), Padding2d.Same, (1, 1)),
        ["k1_s3"] = ConvGeometry.Of("test", new TensorShape(1, 2, 13, 5), 2, 3, (1, 1), (3, 3), 0, (1, 1)),
        ["depthwise_k3_s2_p1"] = ConvGeometry.Of("test", new TensorShape(3, 6, 6, 7), 6, 6, (3, 3), (2, 2), 1, (1, 1), groups: 6),
        ["k4_p3_mostly_padding"] = ConvGeometry.Of("test", new TensorShape(1, 1, 4, 4), 1, 2, (4, 4), (1, 1), 3, (1, 1)),
        ["pointwise"] = ConvGeometry.Of("test", new TensorShape(2, 3, 5, 4), 3, 4, (1, 1), (1, 1), 0, (1, 1)),
        // Vectorised across output channels (ChannelVectorConv): small maps and strided stems; tiles of 64, 32 and 16
        // channels, partial channel blocks and partial pixel tiles, batch 1 split into row bands.
        ["channels64_map4x4"] = ConvGeometry.Of("test", new TensorShape(9, 5, 4, 4), 5, 64, (3, 3), (1, 1), 1, (1, 1)),
        ["channels70_map5x5"] = ConvGeometry.Of("test", new TensorShape(6, 7, 5, 5), 7, 70, (3, 3), (1, 1), 1, (1, 1)),
        ["channels20_map7x6"] = ConvGeometry.Of("test", new TensorShape(4, 3, 7, 6), 3, 20, (3, 3), (1, 1), 1, (1, 1)),
        ["channels16_stem7x7_s2"] = ConvGeometry.Of("test", new TensorShape(2, 3, 17, 19), 3, 16, (7, 7), (2, 2), 3, (1, 1)),
        ["channels32_dilated"] = ConvGeometry.Of("test", new TensorShape(4, 4, 6, 6), 4, 32, (3, 3), (1, 1), 2, (2, 2)),
        ["channels48_same_asymmetric"] = ConvGeometry.Of("test", new TensorShape(4, 3, 5, 7), 3, 48, (4, 2), (1, 1), Padding2d.Same, (1, 1)),
        ["channels64_stem_s3"] = ConvGeometry.Of("test", new TensorShape(11, 2, 11, 13), 2, 64, (3, 3), (3, 3), 0, (1, 1)),
        ["channels17_stem_batch1_bands"] = ConvGeometry.Of("test", new TensorShape(1, 3, 64, 63), 3, 17, (7, 7), (2, 2), 3, (1, 1)),
        ["channels200_2x2_images_grouped"] = ConvGeometry.Of("test", new TensorShape(37, 6, 2, 2), 6, 200, (3, 3), (1, 1), 1, (1, 1)),
        ["channels32_5x5_tiles_across_images"] = ConvGeometry.Of("test", new TensorShape(7, 4, 5, 5), 4, 32, (3, 3), (1, 1), 1, (1, 1)),
        // Batch 1 on tiny maps (SqueezeNet's late stages): a partial channel block, and taps in several L1 blocks.
        ["channels130_map2x2_batch1"] = ConvGeometry.Of("test", new TensorShape(1, 9, 2, 2), 9, 130, (3, 3), (1, 1), 1, (1, 1)),
        // Fewer than 16 outputs on maps smaller than a vector (SqueezeNet's 1×1 classifier): one partial block of channels.
        ["channels10_classifier_2x2"] = ConvGeometry.Of("test", new TensorShape(32, 48, 2, 2), 48, 10, (1, 1), (1, 1), 0, (1, 1)),
        ["channels3_map3x3_batch1"] = ConvGeometry.Of("test", new TensorShape(1, 5, 3, 3), 5, 3, (3, 3), (1, 1), 1, (1, 1)),
        ["channels128_map5x5_batch1_tap_blocks"] = ConvGeometry.Of("test", new TensorShape(1, 32, 5, 5), 32, 128, (3, 3), (1, 1), 1, (1, 1)),
        // A single image on a larger map (cnn-bn's 14×14 and 28×28 at batch 1): bands of tiles, one a thread.
        ["channels64_map14x13_batch1"] = ConvGeometry.Of("test", new TensorShape(1, 16, 14, 13), 16, 64, (3, 3), (1, 1), 1, (1, 1)),
        ["channels40_map27x28_batch1"] = ConvGeometry.Of("test", new TensorShape(1, 9, 27, 28), 9, 40, (3, 3), (1, 1), 1, (1, 1)),
        // Unpadded windows are read in place (1×1 on MobileNet's 2×2 maps, a 3×3 reaching every edge, a stride that
        // never reads the last row and column, as SqueezeNet's stem).
        // Depthwise on rows of 2 to 16 outputs, several rows a vector (PackedRowsDepthwise): a partial chunk of 8 planes,
        // stride 2 onto 8-wide rows from an odd width, a dilated 5×5 with asymmetric padding, rows of 4 (on 4×4 maps too,
        // which the small-plane kernel would otherwise take), 14 and 16.
        ["depthwise_packed_8x8_partial_chunk"] = ConvGeometry.Of("test", new TensorShape(3, 7, 8, 8), 7, 7, (3, 3), (1, 1), 1, (1, 1), groups: 7),
        ["depthwise_packed_s2_odd_width"] = ConvGeometry.Of("test", new TensorShape(2, 17, 16, 15), 17, 17, (3, 3), (2, 2), 1, (1, 1), groups: 17),
        ["depthwise_packed_dilated_5x5_same"] = ConvGeometry.Of("test", new TensorShape(2, 9, 9, 7), 9, 9, (5, 5), (1, 1), Padding2d.Same, (2, 2), groups: 9),
        ["depthwise_packed_rows_of_4_s2"] = ConvGeometry.Of("test", new TensorShape(2, 16, 8, 7), 16, 16, (3, 3), (2, 2), 1, (1, 1), groups: 16),
        ["depthwise_packed_rows_of_14"] = ConvGeometry.Of("test", new TensorShape(2, 11, 14, 14), 11, 11, (3, 3), (1, 1), 1, (1, 1), groups: 11),
        ["depthwise_packed_rows_of_16"] = ConvGeometry.Of("test", new TensorShape(1, 9, 5, 16), 9, 9, (3, 3), (1, 1), 1, (1, 1), groups: 9),
        ["depthwise_packed_rows_of_4_odd_height"] = ConvGeometry.Of("test", new TensorShape(1, 8, 5, 4), 8, 8, (3, 3), (1, 1), 1, (1, 1), groups: 8),
        ["depthwise_packed_4x4_before_small_planes"] = ConvGeometry.Of("test", new TensorShape(3, 20, 4, 4), 20, 20, (3, 3), (1, 1), 1, (1, 1), groups: 20),
        // The rest of rows of 4 to 8, 16 channels at a time through a pixel-major buffer (BlockedDepthwise): an unpadded
        // conv (input rows wider than the output's), stride 3.
        ["depthwise_blocked_valid"] = ConvGeometry.Of("test", new TensorShape(2, 20, 10, 10), 20, 20, (3, 3), (1, 1), 0, (1, 1), groups: 20),
        ["depthwise_blocked_stride3"] = ConvGeometry.Of("test", new TensorShape(2, 17, 19, 20), 17, 17, (3, 3), (3, 3), 1, (1, 1), groups: 17),
        // Planes of up to 16 pixels are padded by one permute per 16 padded floats: a 3×5 plane padded by 2 (63 floats).
        ["channels32_map3x5_small_plane_pad2"] = ConvGeometry.Of("test", new TensorShape(4, 6, 3, 5), 6, 32, (3, 3), (1, 1), 2, (1, 1)),
        ["channels24_1x1_map2x2_in_place"] = ConvGeometry.Of("test", new TensorShape(32, 96, 2, 2), 96, 24, (1, 1), (1, 1), 0, (1, 1)),
        ["channels32_valid3x3_in_place"] = ConvGeometry.Of("test", new TensorShape(2, 7, 5, 5), 7, 32, (3, 3), (1, 1), 0, (1, 1)),
        ["channels16_stride2_unread_column"] = ConvGeometry.Of("test", new TensorShape(3, 4, 6, 6), 4, 16, (3, 3), (2, 2), 0, (1, 1)),
        // Depthwise onto 1 to 4 pixels (DepthwiseToPixel): MobileNetV2's stride-2 3×3 on 2×2 and 4×4 maps, 20 channels (a
        // partial vector), a dilated 3×3 on 3×3 maps, a 5×5 whose window reaches past a 4×4 map, a 2×1 output at stride 2.
        ["depthwise_to_pixel_2x2_s2"] = ConvGeometry.Of("test", new TensorShape(3, 20, 2, 2), 20, 20, (3, 3), (2, 2), 1, (1, 1), groups: 20),
        ["depthwise_to_pixel_3x3_d2"] = ConvGeometry.Of("test", new TensorShape(2, 17, 3, 3), 17, 17, (3, 3), (1, 1), 1, (2, 2), groups: 17),
        ["depthwise_to_pixel_4x4_k5"] = ConvGeometry.Of("test", new TensorShape(2, 33, 4, 4), 33, 33, (5, 5), (4, 4), 1, (1, 1), groups: 33),
        ["depthwise_to_pixel_4x4_s2"] = ConvGeometry.Of("test", new TensorShape(3, 48, 4, 4), 48, 48, (3, 3), (2, 2), 1, (1, 1), groups: 48),
        ["depthwise_to_pixel_3x2_s2"] = ConvGeometry.Of("test", new TensorShape(2, 19, 3, 2), 19, 19, (3, 3), (2, 2), 1, (1, 1), groups: 19),
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void UnfoldMatchesTheDefinition(string name)
    {
        var g = GeometryCases[name];
        var image = TestArrays.Gaussian(g.InChannelsPerGroup * g.InPixels, 1);
        var columns = TestArrays.Filled(g.ColumnsLength, float.NaN); // every entry must be written
        Im2Col.Unfold(image, columns, g);
        TensorAssert.Close(NaiveUnfold(image, g), columns, 0, 0, name);

        var window = TestArrays.Filled(g.WindowLength, float.NaN);
        for (int p = 0; p < g.OutPixels; p++)
        {
            Im2Col.UnfoldWindow(image, window, g, p / g.OutWidth, p % g.OutWidth);
            for (int k = 0; k < g.WindowLength; k++) Assert.Equal(columns[k * g.OutPixels + p], window[k]);
        }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void FoldAddMatchesTheDefinitionAndAccumulates(string name)
    {
        var g = GeometryCases[name];
        var columns = TestArrays.Gaussian(g.ColumnsLength, 2);
        var start = TestArrays.Gaussian(g.InChannelsPerGroup * g.InPixels, 3);

        var folded = (float[])start.Clone();
        Im2Col.FoldAdd(columns, folded, g);
        TensorAssert.Close(NaiveFoldAdd(columns, start, g), folded, 1e-6, 1e-6, name);

        var byWindow = (float[])start.Clone();
        var window = new float[g.WindowLength];
        for (int p = 0; p < g.OutPixels; p++)
        {
            for (int k = 0; k < g.WindowLength; k++) window[k] = columns[k * g.OutPixels + p];
            Im2Col.FoldAddWindow(window, byWindow, g, p / g.OutWidth, p % g.OutWidth);
        }
        TensorAssert.Close(folded, byWindow, 1e-6, 1e-6, name + " by window");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ConvForwardMatchesNaiveLoops(string name)
    {
        var g = GeometryCases[name];
        var x = Tensor.FromArray(TestArrays.Gaussian(g.InputShape.Length, 4), g.InputShape.ToArray());
        var w = Tensor.FromArray(TestArrays.Gaussian(g.OutChannels * g.WindowLength, 5), g.OutChannels, g.InChannelsPerGroup, g.KernelHeight, g.KernelWidth);
        var b = Tensor.FromArray(TestArrays.Gaussian(g.OutChannels, 6), g.OutChannels);
        var padding = new Padding2d(g.PadTop, g.PadLeft);
        bool symmetric = g.PadTop == g.PadBottom && g.PadLeft == g.PadRight;
        // The channel-vectorised cases must take that kernel (it is chosen from the geometry alone).
        if (name.StartsWith("channels")) Assert.True(ChannelVectorConv.Supports(g), name);
        if (name.StartsWith("depthwise_to_pixel")) Assert.True(DepthwiseToPixel.Supports(KernelCrop.Crop(g) ?? g) || !System.Runtime.Intrinsics.X86.Avx512F.IsSupported, name);
        if (name.StartsWith("depthwise_packed")) Assert.True(PackedRowsDepthwise.Supports(g) || !System.Runtime.Intrinsics.X86.Avx512F.IsSupported, name);
        if (name.StartsWith("depthwise_blocked"))
            Assert.True(BlockedDepthwise.Supports(g) && !PackedRowsDepthwise.Supports(g) || !System.Runtime.Intrinsics.X86.Avx512F.IsSupported, name);
        var y = F.Conv2d(x, w, b, (g.StrideHeight, g.StrideWidth), symmetric ? padding : Padding2d.Same, (g.DilationHeight, g.DilationWidth), g.Groups);
        TensorAssert.Close(NaiveConv(x.ToArray(), w.ToArray(), b.ToArray(), g), y.ToArray(), 1e-5, 1e-5, name);
    }

    [Theory]
    [InlineData(1, 5, 5, true)]    // 25 output pixels a batch: the GEMM's 32-column tiles would run mostly empty
    [InlineData(1, 2, 2, true)]
    [InlineData(32, 1, 1, false)]  // 32 to 127: the batched GEMM fills its tiles and is faster
    [InlineData(3, 4, 4, false)]
    [InlineData(8, 4, 4, true)]    // 128 and more
    [InlineData(1, 14, 14, true)]  // a single image up to 28×28: split in bands, one a thread
    [InlineData(1, 8, 8, true)]    // 64 pixels, but too little work to split: both kernels would run on one thread
    [InlineData(1, 11, 11, false)] // 121 pixels and enough work to split: the GEMM's split
    [InlineData(1, 29, 28, false)]
    [InlineData(2, 14, 14, false)]
    public void ChannelVectorConvTakesTheBatchesTheGemmCannotFill(int batch, int height, int width, bool expected)
    {
        var g = ConvGeometry.Of("test", new TensorShape(batch, 16, height, width), 16, 64, (3, 3), (1, 1), 1, (1, 1));
        Assert.Equal(expected && System.Runtime.Intrinsics.X86.Avx512F.IsSupported, ChannelVectorConv.Supports(g));
    }

    [Theory]
    [InlineData(28, 3, 1, 0, 1, 26)]
    [InlineData(28, 3, 1, 1, 1, 28)]
    [InlineData(28, 3, 2, 1, 1, 14)]
    [InlineData(7, 3, 3, 1, 1, 3)]
    [InlineData(11, 3, 1, 2, 2, 11)]
    [InlineData(13, 5, 2, 0, 1, 5)]
    [InlineData(5, 5, 1, 0, 1, 1)]
    public void OutputSizeIsPyTorchs(int size, int kernel, int stride, int padding, int dilation, int expected)
    {
        var g = ConvGeometry.Of("test", new TensorShape(1, 1, size, size), 1, 1, (kernel, kernel), (stride, stride), padding, (dilation, dilation));
        Assert.Equal((expected, expected), (g.OutHeight, g.OutWidth));
    }

    [Fact]
    public void SamePaddingPutsTheOddPixelBottomRight()
    {
        var g = ConvGeometry.Of("test", new TensorShape(1, 1, 7, 5), 1, 1, (4, 2), (1, 1), Padding2d.Same, (1, 3));
        Assert.Equal((1, 2, 1, 2), (g.PadTop, g.PadBottom, g.PadLeft, g.PadRight));
        Assert.Equal((7, 5), (g.OutHeight, g.OutWidth));
    }

    private static float[] NaiveUnfold(float[] image, ConvGeometry g)
    {
        var columns = new float[g.ColumnsLength];
        for (int c = 0; c < g.InChannelsPerGroup; c++)
            for (int ki = 0; ki < g.KernelHeight; ki++)
                for (int kj = 0; kj < g.KernelWidth; kj++)
                    for (int oh = 0; oh < g.OutHeight; oh++)
                        for (int ow = 0; ow < g.OutWidth; ow++)
                        {
                            int row = (c * g.KernelHeight + ki) * g.KernelWidth + kj;
                            columns[row * g.OutPixels + oh * g.OutWidth + ow] = Pixel(image, g, c, oh, ow, ki, kj);
                        }
        return columns;
    }

    private static float[] NaiveFoldAdd(float[] columns, float[] start, ConvGeometry g)
    {
        var image = (float[])start.Clone();
        for (int c = 0; c < g.InChannelsPerGroup; c++)
            for (int ki = 0; ki < g.KernelHeight; ki++)
                for (int kj = 0; kj < g.KernelWidth; kj++)
                    for (int oh = 0; oh < g.OutHeight; oh++)
                        for (int ow = 0; ow < g.OutWidth; ow++)
                        {
                            int ih = oh * g.StrideHeight - g.PadTop + ki * g.DilationHeight;
                            int iw = ow * g.StrideWidth - g.PadLeft + kj * g.DilationWidth;
                            if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue;
                            int row = (c * g.KernelHeight + ki) * g.KernelWidth + kj;
                            image[(c * g.InHeight + ih) * g.InWidth + iw] += columns[row * g.OutPixels + oh * g.OutWidth + ow];
                        }
        return image;
    }

    /// <summary>
    /// ChannelVectorConv keeps, per block of output channels, only the taps with a weight that is not zero: a 3×3 conv
    /// whose first block is a 1×1 conv's (zeros but for the centre, as merged Fire expands), a block of zeros (its bias
    /// only), partial blocks; 16, 32 and 64 channels a block; a single image in bands; batches of tiny maps.
    /// </summary>
    [Theory]
    [InlineData(1, 16, 11, 11, 128, 64)] // blocks of 64: the first a 1×1 conv's, the second a 3×3's; bands
    [InlineData(3, 8, 5, 5, 40, 16)]     // blocks of 32: the first shared by 1×1 and 3×3 channels, the second all zeros
    [InlineData(2, 5, 2, 2, 16, 16)]     // one block of 16, all 1×1
    [InlineData(4, 6, 7, 6, 96, 64)]     // 64 channels of 1×1 and a partial 3×3 block
    public void ChannelVectorConvSkipsTheTapsABlockDoesNotUse(int batch, int channels, int height, int width, int outputs, int centreOnly)
    {
        var g = ConvGeometry.Of("test", new TensorShape(batch, channels, height, width), channels, outputs, (3, 3), (1, 1), 1, (1, 1));
        Assert.True(ChannelVectorConv.Runs(g));
        var x = TestArrays.Gaussian(g.InputShape.Length, 21);
        var w = TestArrays.Gaussian(outputs * g.WindowLength, 22);
        var b = TestArrays.Gaussian(outputs, 23);
        for (int o = 0; o < centreOnly; o++)
            for (int t = 0; t < g.WindowLength; t++)
                if (t % 9 != 4) w[o * g.WindowLength + t] = 0f;
        // The last 16 outputs: all zeros, their bias only.
        if (outputs > centreOnly + 16) w.AsSpan((outputs - 16) * g.WindowLength).Clear();
        // An infinite input: a 1×1 conv reads it at its own pixel only; the centre-only outputs elsewhere stay finite.
        x[g.InPixels + width + 1] = float.PositiveInfinity;
        var packed = new ChannelVectorConv.Packed(g, w);
        var y = new float[g.OutputShape.Length];
        ChannelVectorConv.Forward(g, packed, x, b, y);
        // The definition with the products of the taps no weight of the block uses left out (they read nothing; a block
        // of zeros keeps its last tap).
        int block = 16 * packed.Vectors;
        var live = new bool[outputs * g.WindowLength];
        for (int o = 0; o < outputs; o++)
        {
            int first = o / block * block, end = Math.Min(outputs, first + block);
            bool any = false;
            for (int t = 0; t < g.WindowLength; t++)
            {
                for (int r = first; r < end; r++) live[o * g.WindowLength + t] |= w[r * g.WindowLength + t] != 0f;
                any |= live[o * g.WindowLength + t];
            }
            if (!any) live[o * g.WindowLength + g.WindowLength - 1] = true;
        }
        var expected = NaiveConv(x, w, b, g, live);
        for (int i = 0; i < y.Length; i++)
        {
            if (float.IsFinite(expected[i])) Assert.True(Math.Abs(expected[i] - y[i]) <= 1e-5 + 1e-5 * Math.Abs(expected[i]), $"output {i}: {expected[i]} vs {y[i]}");
            else Assert.False(float.IsFinite(y[i]), $"output {i}: {expected[i]} vs {y[i]}");
        }
        // The centre-only outputs away from the infinite pixel read no other: finite, as the 1×1 conv's.
        for (int o = 0; o < centreOnly / block * block; o++)
            for (int p = 0; p < g.OutPixels; p++)
                if (p != width + 1) Assert.True(float.IsFinite(y[o * g.OutPixels + p]), $"channel {o}, pixel {p}");
        Assert.Equal(packed.Blocks, packed.LiveTaps.Length);
        if (centreOnly >= block) Assert.Equal(channels, packed.LiveTaps[0]); // a 1×1 block's: one tap a channel
    }

    /// <summary>The conv from its definition, in double; where <paramref name="live"/> is given ([O][window]), the taps it marks false are left out.</summary>
    private static float[] NaiveConv(float[] x, float[] w, float[] b, ConvGeometry g, bool[]? live = null)
    {
        var y = new float[g.OutputShape.Length];
        int cg = g.InChannelsPerGroup, og = g.OutChannelsPerGroup;
        for (int n = 0; n < g.Batch; n++)
            for (int o = 0; o < g.OutChannels; o++)
            {
                var image = x.AsSpan((n * g.InChannels + o / og * cg) * g.InPixels, cg * g.InPixels).ToArray();
                for (int oh = 0; oh < g.OutHeight; oh++)
                    for (int ow = 0; ow < g.OutWidth; ow++)
                    {
                        double sum = b[o];
                        for (int c = 0; c < cg; c++)
                            for (int ki = 0; ki < g.KernelHeight; ki++)
                                for (int kj = 0; kj < g.KernelWidth; kj++)
                                {
                                    int tap = (c * g.KernelHeight + ki) * g.KernelWidth + kj;
                                    if (live is null || live[o * g.WindowLength + tap]) sum += (double)w[o * g.WindowLength + tap] * Pixel(image, g, c, oh, ow, ki, kj);
                                }
                        y[((n * g.OutChannels + o) * g.OutHeight + oh) * g.OutWidth + ow] = (float)sum;
                    }
            }
        return y;
    }

    /// <summary>The input value kernel tap (ki, kj) of output pixel (oh, ow) reads; 0 in the padding.</summary>
    private static float Pixel(float[] image, ConvGeometry g, int c, int oh, int ow, int ki, int kj)
    {
        int ih = oh * g.StrideHeight - g.PadTop + ki * g.DilationHeight;
        int iw = ow * g.StrideWidth - g.PadLeft + kj * g.DilationWidth;
        return ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth ? 0f : image[(c * g.InHeight + ih) * g.InWidth + iw];
    }
}
