using System.Text.Json.Nodes;
using Fovea.Nn;
using Fovea.Onnx;
using Fovea.Tests.Cli;
using Fovea.Tests.Support;
using Fovea.Serialization;

namespace Fovea.Tests.Onnx;

/// <summary>The layers the zoo does not use, the file and CLI routes, and the errors.</summary>
public class OnnxLayerExportTests
{
    /// <summary>Grouped, dilated, strided and "same"-padded (asymmetric) convs, every activation, the pools, padding, BatchNorm1d and a partial flatten.</summary>
    public static TheoryData<string> Models() => ["convs", "activations", "pools", "head", "locally-connected"];

    private static (Sequential Model, int C, int H, int W) Build(string name)
    {
        var rng = new Rng(21);
        return name switch
        {
            "convs" => (new Sequential(
                new Conv2d(4, 6, 3, stride: 2, padding: 1, dilation: 2, groups: 2, rng: rng), new BatchNorm2d(6), new ReLU(),
                new Conv2d(6, 6, (2, 3), (1, 1), Padding2d.Same, (1, 2), groups: 3, rng: rng),
                new Conv2d(6, 5, 1, bias: false, rng: rng), new BatchNorm2d(5, affine: false)), 4, 11, 9),
            "activations" => (new Sequential(new Conv2d(2, 4, 3, rng: rng), new LeakyReLU(0.1f), new ELU(0.7f), new GELU(), new GELU("tanh"),
                new Sigmoid(), new Tanh(), new Flatten(), new Softmax(), new LogSoftmax(dim: 1)), 2, 7, 7),
            "pools" => (new Sequential(new ZeroPad2d([1, 2, 0, 3]), new ConstantPad2d(1, 0.5f), new MaxPool2d(3, stride: 2, padding: 1, dilation: 2),
                new AvgPool2d(2, stride: 1, padding: 1, countIncludePad: false), new AvgPool2d(3, stride: 2, padding: 1),
                new AdaptiveAvgPool2d((1, 2)), new GlobalAvgPool2d()), 3, 13, 10),
            "head" => (new Sequential(new Flatten(2, 3), new Flatten(), new Linear(5 * 6, 7, rng: rng), new BatchNorm1d(7), new Dropout(0.3f, rng),
                new Linear(7, 3, bias: false, rng: rng)), 5, 2, 3),
            "locally-connected" => (new Sequential(
                new LocallyConnected2d(3, 4, (9, 8), (3, 2), (2, 1), (1, 0), (1, 2), rng: rng), new ReLU(),
                new LocallyConnected2d(4, 2, (5, 6), 3, padding: Padding2d.Same, bias: false, rng: rng)), 3, 9, 8),
            _ => throw new ArgumentException(name),
        };
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void LayerMatchesFoveaInOnnxRuntime(string name)
    {
        var (model, c, h, w) = Build(name);
        ExportTestModels.RandomizeBatchNorm(model, new Rng(8));
        using var input = Tensor.Normal(new TensorShape(3, c, h, w), 0f, 1f, new Rng(9));
        foreach (int opset in new[] { 13, 17 })
            foreach (bool fold in new[] { false, true })
                OrtRunner.AssertMatches(model, OnnxExporter.ToBytes(model, c, h, w, opset, fold), input, $"{name} opset {opset} fold {fold}");
    }

    [Fact]
    public void ExportWritesTheFileAndLeavesNoTemporary()
    {
        using var folder = new TempFolder();
        var model = Zoo.Create("cnn-tiny", rng: new Rng(1));
        string path = folder.File("tiny.onnx");
        OnnxExporter.Export(model, 1, 28, 28, path, opset: 17);
        Assert.Equal(OnnxExporter.ToBytes(model, 1, 28, 28, 17), File.ReadAllBytes(path));
        Assert.Equal(["tiny.onnx"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void UnsupportedLayerIsAnArgumentExceptionNamingIt()
    {
        var model = new Sequential(new Flatten(), new Unknown());
        var e = Assert.Throws<ArgumentException>(() => OnnxExporter.ToBytes(model, 1, 2, 2));
        Assert.Contains("Unknown", e.Message);
        Assert.Contains("'1'", e.Message);
    }

    [Fact]
    public void AdaptivePoolingOnANonMultipleIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => OnnxExporter.ToBytes(new AdaptiveAvgPool2d((2, 2)), 1, 5, 4));
        Assert.Contains("AdaptiveAvgPool2d", e.Message);
    }

    [Fact]
    public void OpsetOutsideTheSupportedRangeIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => OnnxExporter.ToBytes(Zoo.Create("mlp", rng: new Rng(1)), 1, 28, 28, opset: 11));
        Assert.Contains("opset", e.Message);
    }

    [Fact]
    public void CliExportsAModelFileThatOnnxRuntimeRuns()
    {
        using var folder = new TempFolder();
        var model = Zoo.Create("cnn-bn", rng: new Rng(2));
        ExportTestModels.RandomizeBatchNorm(model, new Rng(4));
        string file = folder.File("model.safetensors"), onnx = folder.File("model.onnx");
        ModelFile.Save(file, model);
        var run = FoveaProcess.Run(folder.Path, "export", file, "--onnx", onnx, "--opset", "17", "--fold-bn");
        Assert.True(run.Exit == 0, run.Stderr);
        using var input = Tensor.Normal(new TensorShape(3, 1, 28, 28), 0f, 1f, new Rng(6));
        OrtRunner.AssertMatches(model, File.ReadAllBytes(onnx), input, "fovea export cnn-bn");
    }

    private sealed class Unknown : Module
    {
        public override Tensor Forward(Tensor input) => input;
        public override JsonObject ToSpec() => new() { ["type"] = nameof(Unknown) };
    }
}
