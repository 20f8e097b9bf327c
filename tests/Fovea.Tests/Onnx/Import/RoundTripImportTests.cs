using Fovea.Nn;
using Fovea.Onnx;
using Fovea.Onnx.Import;
using Fovea.Tests.Support;

namespace Fovea.Tests.Onnx.Import;

/// <summary>
/// A Fovea model exported to ONNX and imported again computes the same logits bit for bit: the importer
/// maps Conv, BatchNormalization, Gemm, pools and activations back onto the very kernels that ran
/// them. Only lc-small differs: its locally connected layers are exported as an unfold plus a MatMul,
/// another summation order, so it is compared within 1e-5.
/// </summary>
public class RoundTripImportTests
{
    public static TheoryData<string> Names() => [.. Zoo.Names];

    [Theory]
    [MemberData(nameof(Names))]
    public void ExportedAndReimportedModelComputesTheSameLogits(string name)
    {
        var (c, h, w) = name.StartsWith("resnet", StringComparison.Ordinal) ? (3, 32, 32) : (1, 28, 28);
        var model = Zoo.Create(name, c, h, w, rng: new Rng(4));
        ExportTestModels.RandomizeBatchNorm(model, new Rng(6));
        model.Eval();
        var imported = OnnxModel.Load(OnnxExporter.ToBytes(model, c, h, w, opset: 17), name);
        imported.Eval();
        using var _ = Autograd.NoGrad();
        using var input = Tensor.Normal(new TensorShape(3, c, h, w), 0f, 1f, new Rng(8));
        using var expected = model.Forward(input);
        using var actual = imported.Forward(input);
        if (name == "lc-small") TensorAssert.Close(expected, actual, rtol: 1e-5, atol: 1e-6);
        else Assert.Equal(expected.ToArray(), actual.ToArray());
    }
}
