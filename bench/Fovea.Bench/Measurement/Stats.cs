namespace Fovea.Bench.Measurement;

/// <summary>Median and range of one framework's samples for one row.</summary>
public sealed record Stats(double Median, double Min, double Max, IReadOnlyList<double> Samples)
{
    public static Stats Of(IReadOnlyList<double> samples)
    {
        if (samples.Count == 0) throw new ArgumentException("Stats need at least one sample.");
        var sorted = samples.Order().ToArray();
        int mid = sorted.Length / 2;
        double median = sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        return new Stats(median, sorted[0], sorted[^1], samples);
    }

    /// <summary>A single measured value (memory counters, which do not vary between runs).</summary>
    public static Stats Single(double value) => Of([value]);
}
