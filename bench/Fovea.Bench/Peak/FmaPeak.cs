using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Fovea.Bench.Peak;

/// <summary>
/// The machine's single-precision FMA peak, measured rather than looked up: each of <c>threads</c>
/// threads runs a loop of 16 independent vector FMA chains that never touch memory (enough chains
/// to cover FMA latency on two ports), all started together. GFLOP/s = 2 × lanes × chains × iterations × threads / time.
/// </summary>
public static class FmaPeak
{
    private const int Chains = 16;

    /// <summary>The widths this CPU accelerates, widest first, e.g. ["Vector512", "Vector256"].</summary>
    public static IReadOnlyList<string> Widths { get; } =
        [.. new[] { (Vector512.IsHardwareAccelerated, "Vector512"), (Vector256.IsHardwareAccelerated, "Vector256") }.Where(w => w.Item1).Select(w => w.Item2)];

    /// <summary>GFLOP/s of <paramref name="threads"/> threads running FMAs of <paramref name="width"/> for about <paramref name="seconds"/>.</summary>
    public static double Measure(string width, int threads, double seconds)
    {
        Func<long, float> loop = width switch
        {
            "Vector512" => Loop<Vector512<float>, Fma512>,
            "Vector256" => Loop<Vector256<float>, Fma256>,
            _ => throw new ArgumentException($"FmaPeak: unknown width '{width}'"),
        };
        int lanes = width == "Vector512" ? 16 : 8;
        loop(1 << 16); // JIT at full optimisation before timing
        long iterations = Calibrate(loop, seconds);
        using var start = new Barrier(threads + 1);
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() => { start.SignalAndWait(); Sink(loop(iterations)); })).ToList();
        workers.ForEach(t => t.Start());
        start.SignalAndWait();
        long t0 = Stopwatch.GetTimestamp();
        workers.ForEach(t => t.Join());
        double elapsed = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        return 2.0 * lanes * Chains * iterations * threads / elapsed / 1e9;
    }

    /// <summary>Iterations that take about <paramref name="seconds"/> on one thread.</summary>
    private static long Calibrate(Func<long, float> loop, double seconds)
    {
        long iterations = 1 << 20;
        long t0 = Stopwatch.GetTimestamp();
        Sink(loop(iterations));
        double elapsed = Math.Max(Stopwatch.GetElapsedTime(t0).TotalSeconds, 1e-6);
        return Math.Max(1 << 20, (long)(iterations * seconds / elapsed));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Sink(float value) => GC.KeepAlive(value);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Loop<TVec, TOps>(long iterations) where TVec : struct where TOps : IFmaOps<TVec>
    {
        TVec m = TOps.Broadcast(0.999999f), a = TOps.Broadcast(1e-7f);
        TVec c0 = TOps.Broadcast(0f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0,
             c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = TOps.Fma(c0, m, a); c1 = TOps.Fma(c1, m, a); c2 = TOps.Fma(c2, m, a); c3 = TOps.Fma(c3, m, a);
            c4 = TOps.Fma(c4, m, a); c5 = TOps.Fma(c5, m, a); c6 = TOps.Fma(c6, m, a); c7 = TOps.Fma(c7, m, a);
            c8 = TOps.Fma(c8, m, a); c9 = TOps.Fma(c9, m, a); c10 = TOps.Fma(c10, m, a); c11 = TOps.Fma(c11, m, a);
            c12 = TOps.Fma(c12, m, a); c13 = TOps.Fma(c13, m, a); c14 = TOps.Fma(c14, m, a); c15 = TOps.Fma(c15, m, a);
        }
        // Consume every chain so the JIT cannot drop any of them.
        return TOps.First(TOps.Add(TOps.Add(TOps.Add(TOps.Add(c0, c1), TOps.Add(c2, c3)), TOps.Add(TOps.Add(c4, c5), TOps.Add(c6, c7))),
            TOps.Add(TOps.Add(TOps.Add(c8, c9), TOps.Add(c10, c11)), TOps.Add(TOps.Add(c12, c13), TOps.Add(c14, c15)))));
    }

    private interface IFmaOps<TVec> where TVec : struct
    {
        static abstract TVec Broadcast(float x);
        static abstract TVec Fma(TVec x, TVec m, TVec a);
        static abstract TVec Add(TVec x, TVec y);
        static abstract float First(TVec x);
    }

    private readonly struct Fma512 : IFmaOps<Vector512<float>>
    {
        public static Vector512<float> Broadcast(float x) => Vector512.Create(x);
        public static Vector512<float> Fma(Vector512<float> x, Vector512<float> m, Vector512<float> a) => Vector512.FusedMultiplyAdd(x, m, a);
        public static Vector512<float> Add(Vector512<float> x, Vector512<float> y) => x + y;
        public static float First(Vector512<float> x) => x.ToScalar();
    }

    private readonly struct Fma256 : IFmaOps<Vector256<float>>
    {
        public static Vector256<float> Broadcast(float x) => Vector256.Create(x);
        public static Vector256<float> Fma(Vector256<float> x, Vector256<float> m, Vector256<float> a) => Vector256.FusedMultiplyAdd(x, m, a);
        public static Vector256<float> Add(Vector256<float> x, Vector256<float> y) => x + y;
        public static float First(Vector256<float> x) => x.ToScalar();
    }
}
