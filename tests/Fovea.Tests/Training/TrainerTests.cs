using Fovea.Nn;
using Fovea.Serialization;
using Fovea.Training;

namespace Fovea.Tests.Training;

public class TrainerTests
{
    [Fact]
    public void AShortRunOnTheSampleLowersTheLossAndBeatsChanceByFar()
    {
        var recipe = new TrainingRecipe { Model = "cnn-tiny", Epochs = 2, BatchSize = 32, Seed = 3 };
        var train = recipe.TrainLoader(SampleData.Train.Take(3000));
        var trainer = recipe.BuildTrainer(train.BatchCount);
        var before = Trainer.Evaluate(trainer.Model, recipe.TestLoader(SampleData.Test));
        var history = trainer.Fit(train, recipe.Epochs, recipe.TestLoader(SampleData.Test));
        Assert.Equal(2, history.Count);
        Assert.True(history[1].TrainLoss < history[0].TrainLoss, $"train loss {history[0].TrainLoss} → {history[1].TrainLoss}");
        Assert.True(history[1].TestLoss < before.Loss, $"test loss {before.Loss} → {history[1].TestLoss}");
        Assert.True(history[1].TestAccuracy > 0.65, $"test accuracy {history[1].TestAccuracy} (chance is 0.10)");
    }

    [Fact]
    public void EvaluateFillsTheConfusionMatrix()
    {
        var recipe = new TrainingRecipe { Model = "mlp" };
        var result = Trainer.Evaluate(recipe.BuildModel(), recipe.TestLoader(SampleData.Test));
        Assert.Equal(1000, result.Count);
        Assert.Equal(10, result.Confusion.Length);
        Assert.All(result.Confusion, row => Assert.Equal(100, row.Sum()));
        Assert.Equal(result.Accuracy, result.PerClassAccuracy.Average(), 9);
        Assert.True(result.Loss > 0);
    }

    [Fact]
    public void AModelThatDoesNotFitTheDataIsNamedBeforeTraining()
    {
        var model = new TrainingRecipe { Model = "mlp", Height = 32, Width = 32 }.BuildModel();
        var e = Assert.ThrowsAny<ArgumentException>(() => Trainer.Evaluate(model, new TrainingRecipe().TestLoader(SampleData.Test.Take(10))));
        Assert.Contains("Linear(1024→256)", e.Message);
        Assert.Contains("[10, 784]", e.Message);
    }

    [Fact]
    public void EarlyStoppingStopsAfterPatienceEpochsWithoutImprovement()
    {
        var stop = new EarlyStopping(patience: 2);
        EpochMetrics M(int epoch, double loss) => new(epoch, 1, 0, loss, 0, 0, 1, 1);
        Assert.False(stop.OnEpochEnd(null!, M(1, 1.0)));
        Assert.False(stop.OnEpochEnd(null!, M(2, 0.9)));
        Assert.False(stop.OnEpochEnd(null!, M(3, 0.95)));
        Assert.True(stop.OnEpochEnd(null!, M(4, 0.91)));
        Assert.Equal(4, stop.StoppedAfterEpoch);
    }

    [Fact]
    public void TimeBudgetStopsWhenAnotherEpochWouldNotFit()
    {
        var budget = new TimeBudget(TimeSpan.FromSeconds(10));
        budget.OnEpochStart(0, 5);
        Assert.False(budget.OnEpochEnd(null!, new EpochMetrics(1, 1, 0, null, null, 0, Seconds: 2, 1)));
        Assert.True(budget.OnEpochEnd(null!, new EpochMetrics(2, 1, 0, null, null, 0, Seconds: 11, 1)));
        Assert.Equal(2, budget.StoppedAfterEpoch);
    }

    [Fact]
    public void RecipesRoundTripThroughJsonAndNameTheirMistakes()
    {
        var recipe = new TrainingRecipe { Model = "cnn-bn", Epochs = 15, Augment = "crop:2,flip", LearningRate = 3e-3, Seed = 9 };
        var back = TrainingRecipe.FromJson(recipe.ToJson());
        Assert.Equal(recipe.ToJson(), back.ToJson());
        Assert.Contains("Known: mlp", Assert.Throws<ArgumentException>(() => (recipe with { Model = "vgg" }).Validate()).Message);
        Assert.Contains("sgd, adam, adamw", Assert.Throws<ArgumentException>(() => (recipe with { Optimizer = "rmsprop" }).Validate()).Message);
        Assert.Contains("bogus", Assert.Throws<ArgumentException>(() => (recipe with { Augment = "bogus" }).Validate()).Message);
    }
}

public class CheckpointTests
{
    private static string Temp() => Path.Combine(Path.GetTempPath(), $"fovea-ckpt-{Guid.NewGuid():N}.safetensors");

    private static float[] Weights(Module model) => model.StateDict().Values.SelectMany(t => t.ToArray()).ToArray();

    [Theory]
    [InlineData("cnn-bn", "adam", "onecycle", "crop:2,flip,erase")]
    [InlineData("mlp", "sgd", "cosine", "none")]
    public void ResumingFromACheckpointGivesTheSameBitsAsAnUninterruptedRun(string model, string optimizer, string schedule, string augment)
    {
        var recipe = new TrainingRecipe { Model = model, Optimizer = optimizer, Schedule = schedule, Augment = augment, Epochs = 3, BatchSize = 32, Seed = 5 };
        var data = SampleData.Train.Take(256);

        var straight = recipe.BuildTrainer(recipe.TrainLoader(data).BatchCount);
        straight.Fit(recipe.TrainLoader(data), recipe.Epochs);

        var path = Temp();
        try
        {
            var first = recipe.BuildTrainer(recipe.TrainLoader(data).BatchCount);
            first.Fit(recipe.TrainLoader(data), 1);
            Checkpoint.Save(path, first, recipe.ToJson());

            var restoredRecipe = TrainingRecipe.FromJson(Checkpoint.ReadRecipe(path)!);
            var resumed = restoredRecipe.BuildTrainer(restoredRecipe.TrainLoader(data).BatchCount);
            Checkpoint.Restore(path, resumed);
            Assert.Equal(1, resumed.CompletedEpochs);
            resumed.Fit(restoredRecipe.TrainLoader(data), restoredRecipe.Epochs);

            Assert.Equal(Weights(straight.Model), Weights(resumed.Model));
            Assert.Equal(straight.History.Select(h => h.TrainLoss), resumed.History.Select(h => h.TrainLoss));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ACheckpointIsAlsoAModelFile()
    {
        var recipe = new TrainingRecipe { Model = "cnn-tiny", Epochs = 1, BatchSize = 64 };
        var data = SampleData.Train.Take(128);
        var trainer = recipe.BuildTrainer(recipe.TrainLoader(data).BatchCount);
        trainer.Fit(recipe.TrainLoader(data), 1);
        var path = Temp();
        try
        {
            Checkpoint.Save(path, trainer, recipe.ToJson());
            var model = ModelFile.Load(path);
            Assert.Equal(Weights(trainer.Model), Weights(model));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AModelFileIsNotACheckpoint()
    {
        var path = Temp();
        try
        {
            ModelFile.Save(path, new TrainingRecipe { Model = "mlp" }.BuildModel());
            var e = Assert.Throws<InvalidDataException>(() => Checkpoint.ReadRecipe(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("not a training checkpoint", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
