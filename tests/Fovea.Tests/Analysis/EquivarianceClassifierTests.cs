using Fovea.Analysis;
using Fovea.Data;
using Fovea.Nn;
using Fovea.Training;

namespace Fovea.Tests.Analysis;

public class EquivarianceClassifierTests
{
    private static ImageDataset Random(int count, ulong seed)
    {
        var rng = new Rng(seed);
        var pixels = new byte[count * 28 * 28];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)rng.NextInt(256);
        var labels = Enumerable.Range(0, count).Select(_ => rng.NextInt(10)).ToArray();
        return new ImageDataset(pixels, labels, 1, 28, 28, [.. Enumerable.Range(0, 10).Select(c => $"class {c}")], "test");
    }

    [Fact]
    public void ShiftZeroIsTheTestAccuracyAndNothingChanges()
    {
        var model = Zoo.Create("cnn-tiny", rng: new Rng(1));
        var data = Random(30, 2);
        var robustness = ShiftRobustness.Measure(model, data, Normalization.FashionMnist, maxShift: 2, batchSize: 7);

        Assert.Equal(30, robustness.Images);
        Assert.Equal([0, 1, 2], robustness.Shifts.Select(s => s.Shift));
        Assert.Equal(1.0, robustness.Shifts[0].Unchanged);
        var evaluation = Trainer.Evaluate(model, DataLoader.Ordered(data, 8, Normalization.FashionMnist));
        Assert.Equal(evaluation.Accuracy, robustness.CleanAccuracy, 12);
        Assert.All(robustness.Shifts, s => Assert.InRange(s.Accuracy, 0, 1));
    }

    [Fact]
    public void AModelThatIgnoresItsInputIsUnchangedByEveryShift()
    {
        var model = new Sequential(new Flatten(), new Linear(784, 10, rng: new Rng(3)));
        ((Linear)model.Layers[1]).Weight.Span.Clear();
        var robustness = ShiftRobustness.Measure(model, Random(12, 4), Normalization.FashionMnist, maxShift: 3);
        Assert.All(robustness.Shifts, s => Assert.Equal(1.0, s.Unchanged));
        Assert.All(robustness.Shifts, s => Assert.Equal(robustness.CleanAccuracy, s.Accuracy));
    }
}
