namespace Fovea.Vision;

/// <summary>A named list of numbers: one line of a chart or one colour of bars.</summary>
public sealed record Series(string Name, IReadOnlyList<double> Values);

/// <summary>One model's training history, one value per epoch; accuracies as fractions (0–1). Empty test lists: no test set.</summary>
public sealed record LearningCurve(string Model, IReadOnlyList<double> TrainLoss, IReadOnlyList<double> TestLoss,
    IReadOnlyList<double> TrainAccuracy, IReadOnlyList<double> TestAccuracy);
