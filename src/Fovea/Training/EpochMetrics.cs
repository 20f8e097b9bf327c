namespace Fovea.Training;

/// <summary>What one epoch of training measured. Test figures are null when no evaluation set was given.</summary>
public sealed record EpochMetrics(
    int Epoch,
    double TrainLoss,
    double TrainAccuracy,
    double? TestLoss,
    double? TestAccuracy,
    double LearningRate,
    double Seconds,
    double ImagesPerSecond);
