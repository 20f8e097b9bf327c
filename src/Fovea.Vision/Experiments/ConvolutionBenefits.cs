using Fovea.Analysis;
using Fovea.Data;
using Fovea.Nn;
using Fovea.Training;

namespace Fovea.Vision.Experiments;

/// <summary>What the experiment measured for one model.</summary>
public sealed record ModelOutcome(
    string Model,
    long Parameters,
    long WeightBytes,
    long MultiplyAdds,
    long ConvolutionParameters,
    int Epochs,
    double TrainSeconds,
    double TestAccuracy,
    IReadOnlyList<ShiftAccuracy> UnderShift,
    string FirstLayer,
    double? FirstLayerShiftError,
    IReadOnlyList<EpochMetrics> History,
    Module Trained)
{
    /// <summary>Accuracy on the shift subset moved by <paramref name="pixels"/> (0: unmoved).</summary>
    public double AccuracyAtShift(int pixels) => UnderShift[pixels].Accuracy;

    /// <summary>Accuracy points lost on the shift subset when it moves by <paramref name="pixels"/>.</summary>
    public double PointsLostAtShift(int pixels) => 100 * (UnderShift[0].Accuracy - UnderShift[pixels].Accuracy);
}

/// <summary>
/// The experiment behind <c>fovea demo</c>: the same recipe trains a dense network, a locally connected
/// one and two CNNs on the same images, then each is measured for the three benefits of convolutions —
/// cost (parameters, weight bytes, multiply-adds), accuracy, and behaviour under translation (accuracy on
/// shifted test images, and its first layer's equivariance error for a one-pixel shift).
/// </summary>
public sealed class ConvolutionBenefits
{
    public static readonly string[] Models = ["mlp", "lc-small", "cnn-small", "cnn-tiny"];

    /// <summary>Largest shift, in pixels, of the shifted-test measurement.</summary>
    public const int MaxShift = 4;

    // Shares of the training budget: the slower a model trains, the more time it gets; cnn-small most, so that on a
    // slow or busy machine the CNN the claims are about still finishes its epochs (lc-small matters for its size, not its accuracy).
    private static readonly Dictionary<string, double> BudgetShares = new() { ["mlp"] = 1, ["cnn-tiny"] = 3, ["cnn-small"] = 6, ["lc-small"] = 5 };

    /// <param name="recipe">Shared by every model (its <see cref="TrainingRecipe.Model"/> is replaced; <see cref="TrainingRecipe.Epochs"/> is the most any model trains).</param>
    /// <param name="trainingBudget">Training time for all models together, shared out by how slow each is.</param>
    /// <param name="shiftImages">Test images used for the shifted-accuracy measurement (every shift, 8 directions).</param>
    public ConvolutionBenefits(TrainingRecipe recipe, TimeSpan trainingBudget, int shiftImages = 1000)
    {
        Recipe = recipe;
        TrainingBudget = trainingBudget;
        ShiftImages = shiftImages;
    }

    public TrainingRecipe Recipe { get; }
    public TimeSpan TrainingBudget { get; }
    public int ShiftImages { get; }

    /// <summary>The training time <paramref name="model"/> gets.</summary>
    public TimeSpan BudgetOf(string model) => TrainingBudget * (BudgetShares[model] / BudgetShares.Values.Sum());

    /// <summary>
    /// Epochs that fit <paramref name="model"/>'s budget (1 to the recipe's), from its speed over a few timed
    /// training steps, so its learning-rate schedule runs to its end instead of being cut off.
    /// </summary>
    public int PlanEpochs(string model, ImageDataset train)
    {
        var recipe = Recipe with { Model = model, Augment = "none" };
        var loader = recipe.TrainLoader(train.Take(recipe.BatchSize * 8));
        var trainer = recipe.BuildTrainer(loader.BatchCount);
        var clock = new System.Diagnostics.Stopwatch();
        trainer.Callbacks.Add(new StepTimer(clock, warmupBatches: 3));
        trainer.Fit(loader, 1);
        double imagesPerSecond = 5 * recipe.BatchSize / Math.Max(clock.Elapsed.TotalSeconds, 1e-6);
        // 20 % of headroom for the evaluation after each epoch.
        int epochs = (int)(BudgetOf(model).TotalSeconds * 0.8 * imagesPerSecond / train.Count);
        return Math.Clamp(epochs, 1, Recipe.Epochs);
    }

    /// <summary>Times the batches after the warm-up ones.</summary>
    private sealed class StepTimer(System.Diagnostics.Stopwatch clock, int warmupBatches) : ITrainingCallback
    {
        public void OnBatchEnd(BatchProgress progress)
        {
            if (progress.Batch == warmupBatches) clock.Start();
        }
    }

    /// <summary>Trains and measures every model of <see cref="Models"/> in turn; <paramref name="callbacks"/> (e.g. a progress display) join each run.</summary>
    public IReadOnlyList<ModelOutcome> Run(ImageDataset train, ImageDataset test, Func<string, IEnumerable<ITrainingCallback>>? callbacks = null) =>
        [.. Models.Select(name => RunOne(name, train, test, callbacks?.Invoke(name) ?? []))];

    public ModelOutcome RunOne(string name, ImageDataset train, ImageDataset test, IEnumerable<ITrainingCallback> callbacks)
    {
        var recipe = Recipe with { Model = name, Epochs = PlanEpochs(name, train) };
        var trainLoader = recipe.TrainLoader(train);
        var testLoader = recipe.TestLoader(test);
        var trainer = recipe.BuildTrainer(trainLoader.BatchCount);
        trainer.Callbacks.AddRange(callbacks);
        trainer.Callbacks.Add(new TimeBudget(BudgetOf(name)));
        trainer.Fit(trainLoader, recipe.Epochs, testLoader);
        double seconds = trainer.History.Sum(h => h.Seconds);

        var model = trainer.Model;
        var costs = CostModel.Of(model, train.Channels, train.Height, train.Width);
        var shifted = ShiftRobustness.Measure(model, test.Take(ShiftImages), recipe.Normalization, MaxShift);
        var (firstLayer, error) = FirstLayerShiftError(model, test, recipe.Normalization);
        long convolutionParameters = model.NamedModules().Select(m => m.Module)
            .Where(m => m is Conv2d or LocallyConnected2d).Sum(m => m.Parameters().Sum(p => (long)p.Length));
        return new ModelOutcome(name, costs.Totals.Parameters, costs.Totals.WeightBytes, costs.Totals.Macs, convolutionParameters,
            trainer.CompletedEpochs, seconds, trainer.History[^1].TestAccuracy ?? shifted.CleanAccuracy, shifted.Shifts, firstLayer, error, trainer.History, model);
    }

    /// <summary>The first layer with weights, and its relative error for a one-pixel shift of 16 test images (invariance for a dense layer).</summary>
    public static (string Layer, double? Error) FirstLayerShiftError(Module model, ImageDataset test, Normalization normalization)
    {
        var layers = EquivarianceProbe.Layers(model).ToList();
        int first = layers.FindIndex(l => l.Layer.Parameters().Any());
        using var batch = DataLoader.Ordered(test.Take(16), 16, normalization, prefetch: false).Epoch(0).Single();
        var report = EquivarianceProbe.Measure(model, batch.Images, [ImageTransform.Translation(1, 0)]);
        return (layers[first].Layer.ToString() ?? layers[first].Name, report.ForLayer(first)[0].RelativeError);
    }
}
