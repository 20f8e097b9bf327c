namespace Fovea.Kernels;

/// <summary>
/// 64-byte alignment for buffers that kernels stream from L2 with vector loads and stores. The pools hand out managed
/// arrays at any 8-byte offset, so a 64-byte vector at a whole-vector offset from the start spans two cache lines,
/// and each such load costs two L1 accesses: a batch-1 Linear read its rows 1.7× slower so, and Winograd's
/// transformed tiles (cnn-bn's 64→64 conv at batch 256: 12.3 → 11.6 ms aligned). Data read from L1 hardly cares
/// (the micro-kernels ran at the same speed), nor did the implicit GEMM's padded image and wide result (within
/// noise). Scratch is over-rented by <see cref="Slack"/> floats and used from its first aligned float.
/// </summary>
internal static unsafe class CacheLines
{
    /// <summary>Floats to rent beyond what a buffer needs, to start it on a cache line.</summary>
    public const int Slack = 16;

    public static float* AlignUp(float* p) => (float*)(((nint)p + 63) & ~(nint)63);

    /// <summary>
    /// A pinned array of <paramref name="length"/> floats and <see cref="Slack"/> more, and in <paramref name="skew"/> the
    /// offset of its first cache-line boundary: for weights packed once and streamed by vector loads, which keep that
    /// alignment because a pinned array never moves.
    /// </summary>
    public static float[] Pinned(int length, out int skew)
    {
        var storage = GC.AllocateUninitializedArray<float>(length + Slack, pinned: true);
        skew = Skew(storage);
        return storage;
    }

    /// <summary>Floats from the start of <paramref name="span"/> to its first cache-line boundary (meaningful for pinned arrays, which stay put).</summary>
    public static int Skew(ReadOnlySpan<float> span)
    {
        fixed (float* p = span) return (int)(AlignUp(p) - p);
    }
}
