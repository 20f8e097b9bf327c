using System.Diagnostics;
using Fovea.Bench.Measurement;
using Fovea.Bench.Report;
using Fovea.Bench.Workloads;

namespace Fovea.Bench.Sections;

/// <summary>
/// Managed bytes allocated per steady-state training step (cnn-bn, batch 64), counted over all
/// threads (Fovea's kernels run on pool threads), Fovea vs TorchSharp's managed wrappers; and the
/// process's peak working set after Fovea's steps, taken before any peer is loaded (this section runs first).
/// </summary>
public static class MemorySection
{
    private const string ModelName = "cnn-bn";
    private const int BatchSize = 64;

    public static void Run(BenchContext context)
    {
        var model = ModelCase.Of(ModelName);
        using var batch = model.Batch(BatchSize);
        var fovea = new FoveaTraining(model.CreateFovea(), batch);
        var foveaBytes = BytesPerStep(context, fovea.Step);
        double peakMiB = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);

        context.EnsureTorch();
        using var torchModel = model.CreateTorch(fovea.Model);
        var torchBytes = BytesPerStep(context, new TorchTraining(torchModel, batch).Step);

        string name = $"{ModelName} b{BatchSize} train step";
        context.Report.Rows.Add(new ResultRow("memory", name, "managed B/step", HigherIsBetter: false,
            new Dictionary<string, Stats> { [Frameworks.Fovea] = Stats.Single(foveaBytes.AllThreads), [Frameworks.Torch] = Stats.Single(torchBytes.AllThreads) },
            $"all threads; calling thread only: Fovea {foveaBytes.ThisThread:#,0}, TorchSharp {torchBytes.ThisThread:#,0}"));
        context.Report.Rows.Add(new ResultRow("memory", "peak working set", "MiB", HigherIsBetter: false,
            new Dictionary<string, Stats> { [Frameworks.Fovea] = Stats.Single(peakMiB) },
            "whole process, Fovea only (taken before the peers load)"));
    }

    private static (double AllThreads, double ThisThread) BytesPerStep(BenchContext context, Action step)
    {
        int warmup = context.Options.WarmupSteps + 2, steps = context.Options.Quick ? 10 : 20;
        context.Progress.Report($"memory: {ModelName} b{BatchSize}, {warmup}+ warm-up + {steps} counted steps");
        // Warm-up by time as well (see Contest.Warm): the JIT's background recompilation allocates too, on other threads.
        Contest.WarmUp(step, warmup, context.Options.WarmupSeconds);
        long total = GC.GetTotalAllocatedBytes(precise: true), thread = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < steps; i++) step();
        return ((double)(GC.GetTotalAllocatedBytes(precise: true) - total) / steps,
                (double)(GC.GetAllocatedBytesForCurrentThread() - thread) / steps);
    }
}
