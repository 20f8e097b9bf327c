using Fovea.Onnx.Import;
using Fovea.Tests.Support;
using Fovea.Optim;

namespace Fovea.Tests.Onnx.Import;

/// <summary>
/// ResNet-18-, MobileNetV2-, SqueezeNet- and VGG-style networks exported by PyTorch 1.13
/// (Fixtures/gen_onnx_zoo.py: opsets 9 to 17, batch norm folded or kept, the Shape→Gather→Reshape glue)
/// import and reproduce PyTorch's logits; the batch dimension is dynamic; imported graphs fine-tune.
/// </summary>
public class TorchvisionImportTests
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx_zoo");

    public static TheoryData<string> Models() => ["resnet18_style", "mobilenet_v2_style", "squeezenet_style", "vgg_style"];

    [Theory]
    [MemberData(nameof(Models))]
    public void ImportedModelReproducesPyTorch(string name)
    {
        var result = OnnxBackendTest.Run(Path.Combine(Root, name), rtol: 1e-4, atol: 1e-5);
        Assert.True(result.Passed, result.Failure);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void BatchDimensionIsDynamic(string name)
    {
        var model = OnnxModel.Load(Path.Combine(Root, name, "model.onnx"));
        model.Eval();
        var dims = model.InputDims()!;
        Assert.Null(dims[0]);
        using var _ = Autograd.NoGrad();
        using var batch = Tensor.Normal(new TensorShape(5, (int)dims[1]!, (int)dims[2]!, (int)dims[3]!), 0f, 1f, new Rng(5));
        using var all = model.Forward(batch);
        int classes = all.Shape[1], sample = batch.Length / 5;
        using var one = Tensor.FromArray(batch.Span.Slice(3 * sample, sample), 1, (int)dims[1]!, (int)dims[2]!, (int)dims[3]!);
        using var single = model.Forward(one);
        TensorAssert.Close(all.Span.Slice(3 * classes, classes).ToArray(), single.Span.ToArray(), rtol: 1e-4, atol: 1e-5);
    }

    [Fact]
    public void ImportedResNetFineTunes()
    {
        var model = OnnxModel.Load(Path.Combine(Root, "resnet18_style", "model.onnx"));
        model.Train();
        var optimizer = new SGD(model.Parameters(), lr: 0.05, momentum: 0.9);
        using var images = Tensor.Normal(new TensorShape(8, 3, 32, 32), 0f, 1f, new Rng(2));
        int[] labels = [0, 1, 2, 3, 4, 5, 6, 7];
        float first = 0, last = 0;
        for (int step = 0; step < 6; step++)
        {
            optimizer.ZeroGrad();
            using var logits = model.Forward(images);
            using var loss = F.CrossEntropy(logits, labels);
            loss.Backward();
            Assert.All(model.Parameters(), p => Assert.NotNull(p.Grad));
            optimizer.Step();
            if (step == 0) first = loss.Item();
            last = loss.Item();
            logits.DisposeGraph();
        }
        Assert.True(last < 0.5f * first, $"loss {first} → {last}");
    }
}
