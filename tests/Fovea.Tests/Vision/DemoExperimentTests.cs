using Fovea.Data;
using Fovea.Tests.Support;
using Fovea.Tests.Training;
using Fovea.Training;
using Fovea.Vision.Experiments;
using SkiaSharp;

namespace Fovea.Tests.Vision;

/// <summary>The demo's experiment and report, run small: every model measured, every picture written, the claims evaluated.</summary>
public class DemoExperimentTests
{
    [Fact]
    public void ASmallRunMeasuresEveryModelAndWritesTheReport()
    {
        var train = SampleData.Train.Take(256);
        var test = SampleData.Test.Take(100);
        var recipe = new TrainingRecipe { Epochs = 1, BatchSize = 64 };
        var experiment = new ConvolutionBenefits(recipe, TimeSpan.FromSeconds(60), shiftImages: 40);
        var outcomes = experiment.Run(train, test);

        Assert.Equal(ConvolutionBenefits.Models, outcomes.Select(o => o.Model));
        var cnn = outcomes.Single(o => o.Model == "cnn-small");
        Assert.Equal(421_642, cnn.Parameters);
        Assert.Equal(4_241_152, cnn.MultiplyAdds);
        Assert.Equal(ConvolutionBenefits.MaxShift + 1, cnn.UnderShift.Count);
        Assert.True(cnn.FirstLayerShiftError < 1e-5, $"conv1 error {cnn.FirstLayerShiftError}");
        Assert.True(outcomes.Single(o => o.Model == "mlp").FirstLayerShiftError > 0.1);
        var lc = outcomes.Single(o => o.Model == "lc-small");
        Assert.True(lc.ConvolutionParameters >= 100 * cnn.ConvolutionParameters);

        using var folder = new TempFolder();
        var report = BenefitsReport.Write(folder.Path, outcomes, test, recipe.Normalization, "a test subset", experiment.ShiftImages);
        string markdown = File.ReadAllText(report);
        foreach (var png in new[] { "learning-curves.png", "accuracy-under-shift.png", "costs.png", "conv-twins.png", "conv1-filters.png", "shifted-feature-map.png" })
        {
            Assert.Contains($"({png})", markdown);
            using var bitmap = SKBitmap.Decode(folder.File(png));
            Assert.True(bitmap is { Width: > 100, Height: > 100 }, png);
        }
        Assert.Equal(4, BenefitsReport.Claims(outcomes).Count);
        Assert.Contains("| cnn-tiny |", BenefitsReport.Table(outcomes));
    }

    [Fact]
    public void TheTrainingBudgetIsSharedOutWholeAndCnnSmallGetsTheMost()
    {
        var experiment = new ConvolutionBenefits(new TrainingRecipe(), TimeSpan.FromSeconds(150));
        Assert.Equal(TimeSpan.FromSeconds(10), experiment.BudgetOf("mlp"));
        Assert.Equal(TimeSpan.FromSeconds(60), experiment.BudgetOf("cnn-small"));
        Assert.Equal(150, ConvolutionBenefits.Models.Sum(m => experiment.BudgetOf(m).TotalSeconds), 6);
    }
}
