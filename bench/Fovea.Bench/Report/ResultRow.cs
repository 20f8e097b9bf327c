using Fovea.Bench.Measurement;

namespace Fovea.Bench.Report;

/// <summary>One line of the table: a case, each framework's stats, and Fovea's ratio to each peer.</summary>
public sealed record ResultRow(string Section, string Name, string Unit, bool HigherIsBetter, IReadOnlyDictionary<string, Stats> Results, string? Note = null)
{
    /// <summary>
    /// Fovea's median against <paramref name="peer"/>'s, oriented so that above 1 means Fovea is
    /// better: Fovea/peer for rates, peer/Fovea for latencies and bytes. Null when either is missing.
    /// </summary>
    public double? Ratio(string peer)
    {
        if (!Results.TryGetValue(Frameworks.Fovea, out var fovea) || !Results.TryGetValue(peer, out var other)) return null;
        double numerator = HigherIsBetter ? fovea.Median : other.Median, denominator = HigherIsBetter ? other.Median : fovea.Median;
        return denominator > 0 ? numerator / denominator : null;
    }
}
