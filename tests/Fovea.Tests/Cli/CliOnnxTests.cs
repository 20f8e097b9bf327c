using System.Text.Json.Nodes;
using Fovea.Data;
using Fovea.Nn;
using Fovea.Onnx;
using Fovea.Tests.Onnx.Import;
using Fovea.Tests.Support;

namespace Fovea.Tests.Cli;

/// <summary><c>fovea onnx-test</c> on backend-test folders (real and damaged) and <c>fovea run</c> on exported models and the bundled sample.</summary>
public class CliOnnxTests
{
    private const string Identity = "/usr/share/libonnx-testdata/data/node/test_identity";

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    [Fact]
    public void OnnxTestPassesABackendTestFolder()
    {
        using var folder = new TempFolder();
        var (exit, stdout, _) = FoveaProcess.Run(folder.Path, "onnx-test", Identity);
        Assert.Equal(0, exit);
        Assert.Contains("PASS test_identity max error 0", stdout);
        Assert.Contains("1 of 1 passed", stdout);
    }

    [Fact]
    public void OnnxTestReportsWrongOutputsAndDamagedModelsInJsonAndFails()
    {
        using var folder = new TempFolder();
        string wrong = Path.Combine(folder.Path, "wrong_output", "test_identity"), damaged = Path.Combine(folder.Path, "damaged_model", "test_identity");
        CopyFolder(Identity, wrong);
        CopyFolder(Identity, damaged);
        // the last float of the expected output (raw_data ends the file) becomes 1234.5
        string output = Path.Combine(wrong, "test_data_set_0", "output_0.pb");
        var bytes = File.ReadAllBytes(output);
        BitConverter.GetBytes(1234.5f).CopyTo(bytes, bytes.Length - 4);
        File.WriteAllBytes(output, bytes);
        string model = Path.Combine(damaged, "model.onnx");
        File.WriteAllBytes(model, File.ReadAllBytes(model)[..^7]);

        var (exit, stdout, stderr) = FoveaProcess.Run(folder.Path, "onnx-test", Identity, folder.Path, "--json");
        Assert.Equal(1, exit);
        var results = JsonNode.Parse(stdout)!.AsArray();
        Assert.Equal(3, results.Count);
        var byDirectory = results.ToDictionary(r => (string)r!["directory"]!, r => r!);
        Assert.True((bool)byDirectory[Identity]["passed"]!);
        Assert.False((bool)byDirectory[wrong]["passed"]!);
        Assert.Contains("expected 1234.5", (string)byDirectory[wrong]["failure"]!);
        Assert.True((double)byDirectory[wrong]["max_abs_error"]! > 1000);
        Assert.False((bool)byDirectory[damaged]["passed"]!);
        Assert.Contains("byte", (string)byDirectory[damaged]["failure"]!);
        Assert.Contains("1 of 3 passed", stderr);
    }

    [Fact]
    public void OnnxTestWithoutTestsIsAOneLineError()
    {
        using var folder = new TempFolder();
        var (exit, _, stderr) = FoveaProcess.Run(folder.Path, "onnx-test", folder.Path);
        Assert.Equal(1, exit);
        Assert.StartsWith("fovea: error: No backend-test folder", stderr);
    }

    [Fact]
    public void RunFeedsTheTestImagesToAnyGraph()
    {
        // Identity over [N, 1, 28, 28]: 784 "classes", the brightest pixel wins; the whole path without a trained model.
        using var folder = new TempFolder();
        var graph = new OnnxGraph(13);
        graph.NamedNode("scores", "Identity", ["image"]);
        string model = folder.File("identity.onnx");
        File.WriteAllBytes(model, graph.ToModel("image", [1, 1, 28, 28], "scores", [1, 1, 28, 28]));

        var (exit, stdout, stderr) = FoveaProcess.Run(folder.Path, "run", model, "--data", FoveaProcess.SampleData, "--index", "2", "--count", "3", "--normalize", "none", "--json");
        Assert.True(exit == 0, stderr);
        var test = MnistFolder.Load(FoveaProcess.SampleData, train: false);
        var predictions = JsonNode.Parse(stdout)!.AsArray();
        Assert.Equal(3, predictions.Count);
        for (int i = 0; i < 3; i++)
        {
            var image = test.Image(2 + i);
            Assert.Equal(2 + i, (int)predictions[i]!["index"]!);
            Assert.Equal(Brightest(image), (int)predictions[i]!["predicted"]!);
            Assert.Equal(test.Label(2 + i), (int)predictions[i]!["label"]!);
            Assert.Equal(test.ClassNames[test.Label(2 + i)], (string)predictions[i]!["label_name"]!);
        }
        Assert.Contains("of 3 correct", stderr);
    }

    private static int Brightest(ReadOnlySpan<byte> image)
    {
        int best = 0;
        for (int p = 1; p < image.Length; p++) if (image[p] > image[best]) best = p;
        return best;
    }

    /// <summary>Needs the Flatten, Gemm and Relu importers (added on other branches).</summary>
    [Fact]
    public void RunOnAnExportedZooModelAgreesWithFovea()
    {
        using var folder = new TempFolder();
        var mlp = Zoo.Create("mlp", rng: new Rng(5));
        string model = folder.File("mlp.onnx");
        OnnxExporter.Export(mlp, 1, 28, 28, model);

        var (exit, stdout, stderr) = FoveaProcess.Run(folder.Path, "run", model, "--data", FoveaProcess.SampleData, "--count", "5");
        Assert.True(exit == 0, stderr);
        var test = MnistFolder.Load(FoveaProcess.SampleData, train: false);
        using var batch = DataLoader.Ordered(test.Take(5), 5, Normalization.FashionMnist, prefetch: false).Epoch(0).Single();
        using var noGrad = Autograd.NoGrad();
        mlp.Eval();
        using var logits = mlp.Forward(batch.Images);
        for (int i = 0; i < 5; i++)
        {
            int predicted = Brightest(logits.Span.Slice(i * 10, 10));
            Assert.Contains($"image {i}: predicted {predicted} {test.ClassNames[predicted]} (", stdout);
            Assert.Contains($"actually {test.Label(i)} {test.ClassNames[test.Label(i)]}", stdout);
        }
        Assert.Contains("of 5 correct", stdout);
    }

    private static int Brightest(ReadOnlySpan<float> scores)
    {
        int best = 0;
        for (int c = 1; c < scores.Length; c++) if (scores[c] > scores[best]) best = c;
        return best;
    }

    [Fact]
    public void RunNamesAnUnsupportedOpOnOneLine()
    {
        using var folder = new TempFolder();
        string model = folder.File("odd.onnx");
        File.WriteAllBytes(model, RawOnnx.Model(g => g.Input("x", 1, 1, 28, 28).Output("y", 1, 10).Node("Frobnicate", "frob", ["x"], ["y"])));
        var (exit, _, stderr) = FoveaProcess.Run(folder.Path, "run", model, "--data", FoveaProcess.SampleData);
        Assert.Equal(1, exit);
        Assert.Equal($"fovea: error: {model}: Frobnicate node 'frob' (opset 13): this op is not supported", stderr.Trim());
    }

    [Fact]
    public void RunNamesAnInputThatDoesNotFitTheData()
    {
        using var folder = new TempFolder();
        var graph = new OnnxGraph(13);
        graph.NamedNode("y", "Identity", ["x"]);
        string model = folder.File("cifar.onnx");
        File.WriteAllBytes(model, graph.ToModel("x", [1, 3, 32, 32], "y", [1, 3, 32, 32]));
        var (exit, _, stderr) = FoveaProcess.Run(folder.Path, "run", model, "--data", FoveaProcess.SampleData);
        Assert.Equal(1, exit);
        Assert.Contains("The model's input 'x' is [N, 3, 32, 32]; the data's images are 1×28×28.", stderr);
    }
}
