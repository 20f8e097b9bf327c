namespace Fovea.Training;

/// <summary>Where a training run stands after a batch: what a progress bar shows.</summary>
public sealed record BatchProgress(
    int Epoch,
    int Epochs,
    int Batch,
    int Batches,
    double Loss,
    double Accuracy,
    double ImagesPerSecond,
    TimeSpan Elapsed,
    TimeSpan Remaining);

/// <summary>Hooks into <see cref="Trainer.Fit"/> (Keras-style callbacks). Every method has a default that does nothing.</summary>
public interface ITrainingCallback
{
    void OnEpochStart(int epoch, int epochs) { }

    void OnBatchEnd(BatchProgress progress) { }

    /// <summary>Called after each epoch's evaluation; return true to stop training after this epoch.</summary>
    bool OnEpochEnd(Trainer trainer, EpochMetrics metrics) => false;
}
