using Fovea.Bench.Measurement;
using Fovea.Bench.Workloads;
using Fovea.Onnx.Import;

namespace Fovea.Bench.Sections;

/// <summary>
/// Imported ONNX models: the torchvision-style networks PyTorch exported (the test fixtures in
/// tests/Fovea.Tests/Fixtures/onnx_zoo), loaded by Fovea's importer and by ONNX Runtime from the same
/// file, timed at batch 1 (latency) and batch 32 (throughput). Logits are compared first.
/// </summary>
public static class ImportSection
{
    private const double MismatchTolerance = 1e-3;

    public static void Run(BenchContext context)
    {
        string root = FindFixtures();
        string[] models = context.Options.Quick ? ["resnet18_style"] : ["resnet18_style", "mobilenet_v2_style", "squeezenet_style", "vgg_style"];
        foreach (var name in models)
        {
            string path = Path.Combine(root, name, "model.onnx");
            var model = OnnxModel.Load(path);
            model.Eval();
            var dims = model.InputDims()!;
            foreach (int size in new[] { 32, 1 })
            {
                int[] shape = [size, (int)dims[1]!, (int)dims[2]!, (int)dims[3]!];
                using var images = Tensor.Normal(new TensorShape(shape), 0f, 1f, new Rng(11));
                var fovea = new FoveaInference(model, images);
                using var ort = new OrtInference(File.ReadAllBytes(path), context.Options.Threads, images.ToArray(), shape.Select(d => (long)d).ToArray());
                if (size == 32) Check(context, name, fovea, ort);
                var contestants = new Contestant[] { new(Frameworks.Fovea, fovea.Step), new(Frameworks.Ort, ort.Step) };
                context.Report.Rows.Add(size == 1
                    ? context.Contest.Run("import", $"{name} b1 latency", Metric.LatencyMicroseconds, contestants)
                    : context.Contest.Run("import", $"{name} b{size}", Metric.Rate("img/s", size), contestants));
            }
        }
    }

    private static void Check(BenchContext context, string name, IInference fovea, IInference ort)
    {
        var a = fovea.Logits();
        var b = ort.Logits();
        double max = a.Length != b.Length ? double.PositiveInfinity : a.Zip(b, (x, y) => (double)Math.Abs(x - y)).Max();
        context.Report.Checks.Add($"imported {name}, batch 32: max |{Frameworks.Ort} − Fovea| = {max:0.0e+0}{(max > MismatchTolerance ? " — MISMATCH, the comparison is not valid" : "")}");
    }

    /// <summary>The fixtures folder, found upwards from the working directory (the bench runs from the repository root or its own folder).</summary>
    private static string FindFixtures()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "Fovea.Tests", "Fixtures", "onnx_zoo");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("tests/Fovea.Tests/Fixtures/onnx_zoo not found above the working directory; run the bench from the repository");
    }
}
