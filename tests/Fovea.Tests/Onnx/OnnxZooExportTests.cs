using Fovea.Nn;
using Fovea.Onnx;

namespace Fovea.Tests.Onnx;

/// <summary>
/// Every zoo model, trained for one short epoch on the sample (<see cref="SampleEpoch"/>), exports
/// (opsets 13 and 17, batch norm kept and folded) and ONNX Runtime computes Fovea's logits on a batch of 3.
/// </summary>
public class OnnxZooExportTests
{
    /// <summary>Each model is trained once and shared by its opset and folding cases (export leaves it unchanged).</summary>
    private static readonly Dictionary<string, Lazy<Sequential>> Trained = Zoo.Names.ToDictionary(n => n, n => new Lazy<Sequential>(() =>
    {
        var (c, h, w) = InputOf(n);
        var model = Zoo.Create(n, c, h, w, rng: new Rng(11));
        SampleEpoch.Train(model, c, h, w);
        return model;
    }));

    private static (int C, int H, int W) InputOf(string name) => name.StartsWith("resnet", StringComparison.Ordinal) ? (3, 32, 32) : (1, 28, 28);

    public static TheoryData<string, int, bool> Cases()
    {
        var cases = new TheoryData<string, int, bool>();
        foreach (var name in Zoo.Names)
            foreach (int opset in new[] { 13, 17 })
            {
                cases.Add(name, opset, false);
                if (name is "cnn-bn" or "resnet8") cases.Add(name, opset, true);
            }
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ExportedZooModelMatchesFoveaInOnnxRuntime(string name, int opset, bool foldBatchNorm)
    {
        var (c, h, w) = InputOf(name);
        var model = Trained[name].Value;
        using var input = Tensor.Normal(new TensorShape(3, c, h, w), 0f, 1f, new Rng(3));
        byte[] onnx = OnnxExporter.ToBytes(model, c, h, w, opset, foldBatchNorm);
        OrtRunner.AssertMatches(model, onnx, input, $"{name} opset {opset}{(foldBatchNorm ? " folded" : "")} logits");
    }
}
