using Fovea.Bench.Measurement;
using Fovea.Bench.Workloads;
using Fovea.Nn;
using Fovea.Onnx;

namespace Fovea.Bench.Sections;

/// <summary>
/// Inference throughput at batch 256 and latency at batch 1 (evaluation mode, no gradients):
/// Fovea vs TorchSharp vs ONNX Runtime on the same weights. Before timing, each peer's logits are
/// compared with Fovea's, so that all three compute the same function.
/// </summary>
public static class InferenceSection
{
    private const int ThroughputBatch = 256;
    private const double MismatchTolerance = 1e-3;

    public static void Run(BenchContext context)
    {
        context.EnsureTorch();
        string[] models = context.Options.Quick ? ["cnn-small", "cnn-bn"] : ["mlp", "cnn-small", "cnn-bn"];
        foreach (var name in models)
        {
            var model = ModelCase.Of(name);
            var fovea = model.CreateFovea();
            RandomizeBatchNorm(fovea, new Rng(7));
            fovea.Eval();
            using var torchModel = model.CreateTorch(fovea);
            torchModel.eval();
            byte[] onnx = OnnxExporter.ToBytes(fovea, model.Channels, model.Height, model.Width);
            foreach (int size in new[] { ThroughputBatch, 1 })
            {
                using var batch = model.Batch(size);
                using var ort = new OrtInference(onnx, context.Options.Threads, batch.Images.ToArray(), batch.Shape);
                IInference[] runs = [new FoveaInference(fovea, batch.Images), new TorchInference(torchModel, batch.TorchImages), ort];
                if (size == ThroughputBatch) Check(context, name, runs);
                var contestants = new Contestant[] { new(Frameworks.Fovea, runs[0].Step), new(Frameworks.Torch, runs[1].Step), new(Frameworks.Ort, runs[2].Step) };
                context.Report.Rows.Add(size == 1
                    ? context.Contest.Run("infer", $"{name} b1 latency", Metric.LatencyMicroseconds, contestants)
                    : context.Contest.Run("infer", $"{name} b{size}", Metric.Rate("img/s", size), contestants));
            }
        }
    }

    /// <summary>Fresh batch-norm layers are the identity; random statistics make the logits check meaningful.</summary>
    private static void RandomizeBatchNorm(Module model, Rng rng)
    {
        foreach (var (_, module) in model.NamedModules())
        {
            if (module is not BatchNorm2d bn) continue;
            foreach (var (tensor, low, high) in new[] { (bn.Weight, 0.5f, 1.5f), (bn.Bias, -0.2f, 0.2f), (bn.RunningMean, -0.2f, 0.2f), (bn.RunningVar, 0.5f, 1.5f) })
            {
                var span = tensor!.Span;
                for (int i = 0; i < span.Length; i++) span[i] = low + (high - low) * rng.NextFloat();
            }
        }
    }

    private static void Check(BenchContext context, string name, IInference[] runs)
    {
        var reference = runs[0].Logits();
        var differences = new[] { (Peer: Frameworks.Torch, Run: runs[1]), (Peer: Frameworks.Ort, Run: runs[2]) }.Select(p =>
        {
            var logits = p.Run.Logits();
            double max = logits.Length != reference.Length ? double.PositiveInfinity : reference.Zip(logits, (a, b) => (double)Math.Abs(a - b)).Max();
            return $"max |{p.Peer} − Fovea| = {max:0.0e+0}{(max > MismatchTolerance ? " — MISMATCH, the comparison is not valid" : "")}";
        });
        context.Report.Checks.Add($"{name} logits, batch {ThroughputBatch}, same weights: {string.Join(", ", differences)}");
    }
}
