namespace Fovea.Bench.Report;

/// <summary>Everything one run produced: the machine, the settings, the FMA peak, the rows and the honesty checks.</summary>
public sealed class BenchReport(MachineInfo machine, BenchOptions options)
{
    public MachineInfo Machine { get; } = machine;
    public BenchOptions Options { get; } = options;
    public DateTimeOffset Started { get; } = DateTimeOffset.Now;
    public List<ResultRow> Rows { get; } = [];

    /// <summary>1-minute load average when the run started and when it ended (null where unknown).</summary>
    public double? LoadAtStart { get; } = LoadAverage.Read();
    public double? LoadAtEnd { get; set; }

    /// <summary>Measured FMA peaks by vector width ("Vector512": GFLOP/s), each a median over repetitions.</summary>
    public Dictionary<string, Measurement.Stats> FmaPeaks { get; } = [];

    /// <summary>Correctness checks that make the comparison honest (e.g. "ORT vs Fovea logits, cnn-bn: max |Δ| 2e-6").</summary>
    public List<string> Checks { get; } = [];

    /// <summary>Things a reader must know about how the peers were run (e.g. the patched TorchSharp library).</summary>
    public List<string> Notes { get; } = [];

    /// <summary>The widest measured peak, the one that "% of peak" refers to.</summary>
    public double? Peak => FmaPeaks.Count == 0 ? null : FmaPeaks.Values.Max(s => s.Median);
}
