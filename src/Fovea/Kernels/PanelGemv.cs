using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// Batch-1 inference of a Linear layer, y += W·x with W [outputs, depth] (PyTorch's layout): W packed once into panels
/// of 64 outputs, depth-major ([panel][depth][64]) and 64-byte aligned. A batch-1 Linear streams its weights from L2 (a
/// CNN's first Linear, 3136→128, is 1.6 MB) and does little else; its rows read in place (<see cref="GemmSmallM{TVec,
/// TOps}.DotRows"/>) are four streams at the tensor's arbitrary alignment, so every 64-byte load spans two cache lines.
/// Measured on one thread, 3136 deep: 64 outputs 12.4 µs that way, 6.1 µs from an aligned panel (7.4 with the rows
/// aligned); 128 outputs 26.4 against 17.4 µs. Each panel is one sequential stream, and the product needs no horizontal
/// sums. AVX-512 only; the outputs past the last whole panel are left to the caller.
/// </summary>
internal sealed unsafe class PanelGemv
{
    public const int PanelWidth = 64;

    // Pinned, so that the aligned start found once stays aligned.
    private readonly float[] _storage;
    private readonly int _start;

    /// <summary>Whether a product of <paramref name="rows"/> rows of x with <paramref name="outputs"/> outputs runs here: one row, at least one whole panel, AVX-512.</summary>
    public static bool Supports(int rows, int outputs) => Avx512F.IsSupported && rows == 1 && outputs >= PanelWidth;

    /// <summary>Packs the whole panels of <paramref name="weight"/> [<paramref name="outputs"/>, <paramref name="depth"/>].</summary>
    public PanelGemv(ReadOnlySpan<float> weight, int outputs, int depth)
    {
        Depth = depth;
        Panels = outputs / PanelWidth;
        _storage = CacheLines.Pinned(Panels * PanelWidth * depth, out _start);
        // Written in order, read down 64 rows of W (whose lines stay in L1 from one depth to the next).
        var packed = _storage.AsSpan(_start);
        for (int panel = 0; panel < Panels; panel++)
            for (int p = 0; p < depth; p++)
            {
                var target = packed.Slice((panel * depth + p) * PanelWidth, PanelWidth);
                for (int l = 0; l < PanelWidth; l++) target[l] = weight[(panel * PanelWidth + l) * depth + p];
            }
    }

    public int Depth { get; }

    /// <summary>Whole panels packed: outputs [0, 64·Panels).</summary>
    public int Panels { get; }

    private int _calls;

    /// <summary>
    /// Whether this call walks its panels last to first: every other call does. The panels a thread streams (1.6 MB of a
    /// 3136→256 layer) do not fit its L2 beside the rest of a forward pass, and walked in the same order each call they
    /// evict each other before they are read again; walked back and forth, the panel read last is read first next time,
    /// while it is still in L2. Each panel's sums are the same either way.
    /// </summary>
    public bool NextCallBackwards() => (Interlocked.Increment(ref _calls) & 1) == 0;

    /// <summary>
    /// y[64·panel + l] += Σ_p W[64·panel + l, p]·x[p] for the panels [<paramref name="first"/>, <paramref name="end"/>),
    /// last to first when <paramref name="backwards"/>.
    /// Even and odd depths go to separate sums (eight chains, enough to cover the multiply-add latency), added at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(float* x, float* y, int first, int end, bool backwards = false)
    {
        int depth = Depth;
        fixed (float* storage = _storage)
        {
            for (int i = first; i < end; i++)
            {
                int panel = backwards ? first + end - 1 - i : i;
                float* w = storage + _start + (long)panel * depth * PanelWidth;
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, t0 = default, t1 = default, t2 = default, t3 = default;
                int p = 0;
                for (; p + 1 < depth; p += 2, w += 2 * PanelWidth)
                {
                    var a = Vector512.Create(x[p]);
                    s0 = Avx512F.FusedMultiplyAdd(a, Vector512.LoadAligned(w), s0);
                    s1 = Avx512F.FusedMultiplyAdd(a, Vector512.LoadAligned(w + 16), s1);
                    s2 = Avx512F.FusedMultiplyAdd(a, Vector512.LoadAligned(w + 32), s2);
                    s3 = Avx512F.FusedMultiplyAdd(a, Vector512.LoadAligned(w + 48), s3);
                    var b = Vector512.Create(x[p + 1]);
                    t0 = Avx512F.FusedMultiplyAdd(b, Vector512.LoadAligned(w + 64), t0);
                    t1 = Avx512F.FusedMultiplyAdd(b, Vector512.LoadAligned(w + 80), t1);
                    t2 = Avx512F.FusedMultiplyAdd(b, Vector512.LoadAligned(w + 96), t2);
                    t3 = Avx512F.FusedMultiplyAdd(b, Vector512.LoadAligned(w + 112), t3);
                }
                if (p < depth)
                {
                    var a = Vector512.Create(x[p]);
                    s0 = Avx512F.FusedMultiplyAdd(a, Vector512.LoadAligned(w), s0);
                    s1 = Avx512F.FusedMultiplyAdd(a, Vector512.LoadAligned(w + 16), s1);
                    s2 = Avx512F.FusedMultiplyAdd(a, Vector512.LoadAligned(w + 32), s2);
                    s3 = Avx512F.FusedMultiplyAdd(a, Vector512.LoadAligned(w + 48), s3);
                }
                float* target = y + panel * PanelWidth;
                (Vector512.Load(target) + (s0 + t0)).Store(target);
                (Vector512.Load(target + 16) + (s1 + t1)).Store(target + 16);
                (Vector512.Load(target + 32) + (s2 + t2)).Store(target + 32);
                (Vector512.Load(target + 48) + (s3 + t3)).Store(target + 48);
            }
        }
    }
}
