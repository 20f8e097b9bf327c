namespace Fovea.Training;

/// <summary>Saves a <see cref="Checkpoint"/> after every epoch (Keras's ModelCheckpoint), so an interrupted run resumes from its last epoch.</summary>
public sealed class CheckpointCallback(string path, string? recipeJson = null) : ITrainingCallback
{
    public string Path { get; } = path;

    public bool OnEpochEnd(Trainer trainer, EpochMetrics metrics)
    {
        Checkpoint.Save(Path, trainer, recipeJson);
        return false;
    }
}
