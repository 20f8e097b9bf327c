namespace Fovea.Kernels;

/// <summary>
/// The taps a <see cref="ChannelVectorConv"/> tile runs, for the tiles whose pixels' windows lie within one range of
/// kernel rows and one of kernel columns inside the input (the rest fall in the zero padding): for each
/// block of 16·V output channels, its live taps in order (those where some of its weights are not zero), their packed
/// weights ([tap][16·V], zero beyond O) and their offsets from a pixel's window origin. Taps outside the window would
/// only add w·0 to the sums, so leaving them out changes no sum (but for the sign of a zero, and w·0 = NaN for an
/// infinite weight, which the op on the padded input would give).
/// </summary>
internal sealed unsafe class ChannelVectorTaps
{
    /// <summary>
    /// Packs the taps of kernel rows [<paramref name="rows"/>) and columns [<paramref name="columns"/>). A block keeping the
    /// same taps as <paramref name="full"/>'s (the whole kernel's; null when building those) shares them: the blocks of
    /// 1×1 channels merged into a 3×3 conv keep only the centre everywhere.
    /// </summary>
    public ChannelVectorTaps(ConvGeometry g, ReadOnlySpan<float> weight, int vectors, int[] offsets, int[] blockedOffsets,
        (int First, int End) rows, (int First, int End) columns, ChannelVectorTaps? full)
    {
        int width = 16 * vectors, taps = g.WindowLength, kernel = g.KernelHeight * g.KernelWidth;
        int blocks = (g.OutChannels + width - 1) / width;
        var kept = new List<int>[blocks];
        for (int block = 0; block < blocks; block++)
        {
            kept[block] = [];
            int channels = Math.Min(width, g.OutChannels - block * width), lastInWindow = -1;
            for (int t = 0; t < taps; t++)
            {
                int i = t % kernel / g.KernelWidth, j = t % g.KernelWidth;
                if (i < rows.First || i >= rows.End || j < columns.First || j >= columns.End) continue;
                lastInWindow = t;
                int source = block * width * taps + t;
                for (int l = 0; l < channels; l++)
                {
                    if (weight[source + l * taps] == 0f) continue;
                    kept[block].Add(t);
                    break;
                }
            }
            // A block of zeros still runs one tap, so that its outputs (the bias) are written.
            if (kept[block].Count == 0) kept[block].Add(lastInWindow);
        }
        Live = kept.Select(k => k.Count).ToArray();
        bool[] shared = kept.Select((k, block) => full is not null && System.Runtime.InteropServices.CollectionsMarshal.AsSpan(k).SequenceEqual(full.TapsOf(block))).ToArray();
        Start = new int[blocks];
        for (int block = 1; block < blocks; block++) Start[block] = Start[block - 1] + (shared[block - 1] ? 0 : Live[block - 1]);
        int total = Start[^1] + (shared[^1] ? 0 : Live[^1]);
        _storage = CacheLines.Pinned(Math.Max(1, total) * width, out _skew);
        Taps = GC.AllocateArray<int>(total, pinned: true);
        Offsets = GC.AllocateArray<int>(total, pinned: true);
        BlockedOffsets = GC.AllocateArray<int>(total, pinned: true);
        _weights = new nint[blocks];
        _offsets = new nint[blocks];
        _blockedOffsets = new nint[blocks];
        // Written in order, read down the block's weight rows (16·V rows, whose cache lines stay in L1 from one tap to
        // the next); the other way round, every write went to another cache line and packing cost a fifth of the conv.
        for (int block = 0; block < blocks; block++)
        {
            if (shared[block])
            {
                (_weights[block], _offsets[block], _blockedOffsets[block]) = (full!._weights[block], full._offsets[block], full._blockedOffsets[block]);
                continue;
            }
            int channels = Math.Min(width, g.OutChannels - block * width);
            for (int k = 0; k < kept[block].Count; k++)
            {
                int t = kept[block][k], at = Start[block] + k, source = block * width * taps + t;
                var target = _storage.AsSpan(_skew + at * width, width);
                for (int l = 0; l < channels; l++) target[l] = weight[source + l * taps];
                target[channels..].Clear();
                Taps[at] = t;
                Offsets[at] = offsets[t];
                BlockedOffsets[at] = blockedOffsets[t];
            }
            fixed (float* w = _storage)
            fixed (int* o = Offsets, b = BlockedOffsets)
                (_weights[block], _offsets[block], _blockedOffsets[block]) = ((nint)(w + _skew + (long)Start[block] * width), (nint)(o + Start[block]), (nint)(b + Start[block]));
        }
    }

    /// <summary>Where each block's own taps start, in taps (a block shared with the whole kernel's has none here).</summary>
    private int[] Start { get; }

    /// <summary>How many taps each block keeps.</summary>
    public int[] Live { get; }

    /// <summary>Each kept tap's index in the window (channel, kernel row, kernel column), [Start[block] + tap].</summary>
    private int[] Taps { get; }

    /// <summary>Each kept tap's offset from a pixel's window origin in the padded input (see ChannelVectorConv's InputLayout), [Start[block] + tap].</summary>
    private int[] Offsets { get; }

    /// <summary><see cref="Offsets"/> for an input in channel blocks (<see cref="ChannelBlocks"/>).</summary>
    private int[] BlockedOffsets { get; }

    private readonly float[] _storage;
    private readonly int _skew;

    /// <summary>Each block's packed weights and tap offsets: its own (pinned arrays), or the whole kernel's it shares.</summary>
    private readonly nint[] _weights, _offsets, _blockedOffsets;

    /// <summary>Block <paramref name="block"/>'s tap indices.</summary>
    private ReadOnlySpan<int> TapsOf(int block) => Taps.AsSpan(Start[block], Live[block]);

    /// <summary>Block <paramref name="block"/>'s tap offsets, for an input in planes or in channel blocks.</summary>
    public int* OffsetsOf(int block, bool blockedInput) => (int*)(blockedInput ? _blockedOffsets[block] : _offsets[block]);

    /// <summary>
    /// Block <paramref name="block"/>'s packed weights, [tap][16·V] from a cache-line boundary. Unaligned, every vector of
    /// weights spanned two cache lines: SqueezeNet-style's stem spent a fifth of its multiply-adds waiting on them.
    /// </summary>
    public float* WeightsOf(int block) => (float*)_weights[block];
}
