namespace Fovea.Training;

/// <summary>
/// Stops training once the test loss (or, when there is no test set, the training loss) has not
/// improved by at least <paramref name="minDelta"/> for <paramref name="patience"/> epochs, as Keras's EarlyStopping.
/// </summary>
public sealed class EarlyStopping(int patience, double minDelta = 0) : ITrainingCallback
{
    private double _best = double.PositiveInfinity;
    private int _epochsWithoutImprovement;

    public int Patience { get; } = patience >= 1 ? patience : throw new ArgumentOutOfRangeException(nameof(patience), $"Patience must be at least 1. Received: {patience}");

    /// <summary>The epoch after which training stopped, or null if it ran to the end.</summary>
    public int? StoppedAfterEpoch { get; private set; }

    public bool OnEpochEnd(Trainer trainer, EpochMetrics metrics)
    {
        double monitored = metrics.TestLoss ?? metrics.TrainLoss;
        if (monitored < _best - minDelta)
        {
            _best = monitored;
            _epochsWithoutImprovement = 0;
            return false;
        }
        if (++_epochsWithoutImprovement < Patience) return false;
        StoppedAfterEpoch = metrics.Epoch;
        return true;
    }
}
