using System.Diagnostics;

namespace Fovea.Training;

/// <summary>
/// Stops training when another epoch would not fit in <see cref="Budget"/>: after each epoch, if the
/// time used plus the last epoch's duration exceeds the budget. The clock starts with the first epoch.
/// </summary>
public sealed class TimeBudget(TimeSpan budget) : ITrainingCallback
{
    private Stopwatch? _clock;

    public TimeSpan Budget { get; } = budget > TimeSpan.Zero ? budget : throw new ArgumentOutOfRangeException(nameof(budget), $"The time budget must be positive. Received: {budget}");

    /// <summary>The epoch after which the budget stopped training, or null if every epoch fitted.</summary>
    public int? StoppedAfterEpoch { get; private set; }

    public void OnEpochStart(int epoch, int epochs) => _clock ??= Stopwatch.StartNew();

    public bool OnEpochEnd(Trainer trainer, EpochMetrics metrics)
    {
        if (_clock!.Elapsed + TimeSpan.FromSeconds(metrics.Seconds) <= Budget) return false;
        StoppedAfterEpoch = metrics.Epoch;
        return true;
    }
}
