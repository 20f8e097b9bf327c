using System.Diagnostics;
using Fovea.Bench.Report;

namespace Fovea.Bench.Measurement;

/// <summary>
/// Runs the contestants of one row in interleaved repetitions: every repetition measures each
/// framework once, rotating which goes first, so that drifting machine load (this machine is
/// shared) hits all of them alike. Each sample runs warm-up steps, then steps until its time budget
/// is spent (at least one), and turns the mean time per step into the row's metric.
/// </summary>
public sealed class Contest(BenchOptions options, Progress progress)
{
    private static readonly TimeSpan QuiescePause = TimeSpan.FromMilliseconds(50);

    public ResultRow Run(string section, string name, Metric metric, IReadOnlyList<Contestant> contestants, string? note = null)
    {
        foreach (var c in contestants) Warm(c);
        var samples = contestants.ToDictionary(c => c.Framework, _ => new List<double>());
        for (int rep = 0; rep < options.Repetitions; rep++)
        {
            progress.Report($"{section}: {name} ({rep + 1}/{options.Repetitions})");
            for (int i = 0; i < contestants.Count; i++)
            {
                var c = contestants[(i + rep) % contestants.Count];
                // Thread pools that spin after their work (ONNX Runtime's, OpenMP's) would otherwise take a core
                // from whoever runs next; a pause lets them settle into waiting first.
                Thread.Sleep(QuiescePause);
                samples[c.Framework].Add(metric.FromSecondsPerStep(SecondsPerStep(c.Step)));
            }
        }
        return new ResultRow(section, name, metric.Unit, metric.HigherIsBetter,
            samples.ToDictionary(s => s.Key, s => Stats.Of(s.Value)), note);
    }

    /// <summary>
    /// First steps, for at least WarmupSteps steps and WarmupSeconds: JIT, lazily created buffers, allocator pools. The
    /// seconds are for .NET's tiered compilation, which recompiles hot methods optimised on a background thread: with
    /// both cores busy (2 compute threads, whose workers spin between forks) that took about a second, and a batch-1
    /// sample right after a few warm-up steps measured partly unoptimised code (vgg_style at 263 µs, then 100 µs).
    /// </summary>
    private void Warm(Contestant c) => WarmUp(c.Step, options.WarmupSteps, options.WarmupSeconds);

    /// <summary>Runs <paramref name="step"/> at least <paramref name="minSteps"/> times and for at least <paramref name="minSeconds"/>.</summary>
    public static void WarmUp(Action step, int minSteps, double minSeconds)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < minSteps || clock.Elapsed.TotalSeconds < minSeconds; i++) step();
    }

    private double SecondsPerStep(Action step)
    {
        long budget = (long)(options.SecondsPerSample * Stopwatch.Frequency);
        // One step to get back in cache after the other frameworks ran; a step longer than the whole
        // budget hardly depends on the cache, so it is the sample (slow peers under load stay affordable).
        long first = Stopwatch.GetTimestamp();
        step();
        long firstElapsed = Stopwatch.GetTimestamp() - first;
        if (firstElapsed >= budget) return (double)firstElapsed / Stopwatch.Frequency;
        long start = Stopwatch.GetTimestamp();
        int steps = 0;
        long elapsed;
        do
        {
            step();
            steps++;
            elapsed = Stopwatch.GetTimestamp() - start;
        } while (elapsed < budget);
        return (double)elapsed / Stopwatch.Frequency / steps;
    }
}
