using Fovea.Bench.Measurement;
using Fovea.Bench.Workloads;

namespace Fovea.Bench.Sections;

/// <summary>Training images/s, Fovea vs TorchSharp, same architecture, same starting weights, same batch.</summary>
public static class TrainingSection
{
    public static void Run(BenchContext context)
    {
        context.EnsureTorch();
        string[] models = context.Options.Quick ? ["mlp", "cnn-small", "cnn-bn"] : ["mlp", "cnn-small", "cnn-bn", "resnet20"];
        int[] batches = context.Options.Quick ? [64] : [64, 128];
        foreach (var name in models)
        {
            var model = ModelCase.Of(name);
            foreach (int size in batches)
            {
                using var batch = model.Batch(size);
                var fovea = new FoveaTraining(model.CreateFovea(), batch);
                using var torchModel = model.CreateTorch(fovea.Model);
                var torch = new TorchTraining(torchModel, batch);
                context.Report.Rows.Add(context.Contest.Run("train", $"{name} b{size}", Metric.Rate("img/s", size),
                    [new(Frameworks.Fovea, fovea.Step), new(Frameworks.Torch, torch.Step)],
                    note: $"{model.Channels}×{model.Height}×{model.Width}, Adam, cross-entropy"));
            }
        }
    }
}
