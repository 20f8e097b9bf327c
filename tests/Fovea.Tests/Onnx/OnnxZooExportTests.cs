using Fovea.Nn;
using Fovea.Onnx;

namespace Fovea.Tests.Onnx;

/// <summary>
/// Every zoo model exports (opsets 13 and 17, batch norm kept and folded) and ONNX Runtime computes
/// Fovea's logits on a batch of 3. Weights are seeded initialisations and the batch-norm layers get
/// random affine parameters and running statistics, so that keeping or folding them is really tested.
/// </summary>
public class OnnxZooExportTests
{
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
        var (c, h, w) = name.StartsWith("resnet", StringComparison.Ordinal) ? (3, 32, 32) : (1, 28, 28);
        var model = Zoo.Create(name, c, h, w, rng: new Rng(11));
        ExportTestModels.RandomizeBatchNorm(model, new Rng(5));
        using var input = Tensor.Normal(new TensorShape(3, c, h, w), 0f, 1f, new Rng(3));
        byte[] onnx = OnnxExporter.ToBytes(model, c, h, w, opset, foldBatchNorm);
        OrtRunner.AssertMatches(model, onnx, input, $"{name} opset {opset}{(foldBatchNorm ? " folded" : "")} logits");
    }
}
