namespace Fovea.Training;

/// <summary>
/// Loss and accuracy of a model on a data set, per class and as a confusion matrix
/// (<c>Confusion[actual][predicted]</c> counts images).
/// </summary>
public sealed class EvaluationResult
{
    public EvaluationResult(double loss, int[][] confusion, IReadOnlyList<string> classNames)
    {
        Loss = loss;
        Confusion = confusion;
        ClassNames = classNames;
        Count = confusion.Sum(row => row.Sum());
        int correct = Enumerable.Range(0, confusion.Length).Sum(i => confusion[i][i]);
        Accuracy = Count == 0 ? 0 : (double)correct / Count;
        PerClassAccuracy = confusion.Select((row, i) => row.Sum() == 0 ? 0 : (double)row[i] / row.Sum()).ToArray();
    }

    /// <summary>Mean cross-entropy per image.</summary>
    public double Loss { get; }

    /// <summary>Fraction of images whose highest logit is their label.</summary>
    public double Accuracy { get; }

    public IReadOnlyList<double> PerClassAccuracy { get; }
    public int[][] Confusion { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public int Count { get; }
}
