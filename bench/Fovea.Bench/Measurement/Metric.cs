namespace Fovea.Bench.Measurement;

/// <summary>What a row reports from the time per step: work per second (images/s, GFLOP/s) or microseconds per step.</summary>
public sealed record Metric(string Unit, bool HigherIsBetter, Func<double, double> FromSecondsPerStep)
{
    /// <summary><paramref name="workPerStep"/> units per step (images, or GFLOP), reported per second.</summary>
    public static Metric Rate(string unit, double workPerStep) => new(unit, true, seconds => workPerStep / seconds);

    public static Metric LatencyMicroseconds { get; } = new("µs", false, seconds => seconds * 1e6);
}
