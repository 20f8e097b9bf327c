using Fovea.Bench.Measurement;
using Fovea.Bench.Peers;
using Fovea.Bench.Report;

namespace Fovea.Bench.Sections;

/// <summary>What every section needs: the options, the contest runner, the report to add to, and peer start-up.</summary>
public sealed class BenchContext
{
    public BenchContext(BenchOptions options, BenchReport report)
    {
        Options = options;
        Report = report;
        Contest = new Contest(options, Progress);
    }

    public BenchOptions Options { get; }
    public BenchReport Report { get; }
    public Progress Progress { get; } = new();
    public Contest Contest { get; }

    /// <summary>Loads TorchSharp (patching its shim once) before a section first touches it.</summary>
    public void EnsureTorch() => TorchRuntime.EnsureReady(Options.Threads, Report.Notes);
}
