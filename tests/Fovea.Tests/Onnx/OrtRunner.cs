using Fovea.Nn;
using Fovea.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Fovea.Tests.Onnx;

/// <summary>Runs an exported model in ONNX Runtime and compares its logits with Fovea's on the same batch.</summary>
internal static class OrtRunner
{
    public static float[] Run(byte[] model, Tensor input)
    {
        // One thread: the test machine is shared, and the comparison does not depend on it.
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var tensor = new DenseTensor<float>(input.Span.ToArray(), input.Shape.ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", tensor)]);
        var logits = results.Single(r => r.Name == "logits");
        return logits.AsEnumerable<float>().ToArray();
    }

    /// <summary>Fovea's logits (eval mode) against ONNX Runtime's on the exported graph, rtol 1e-4 plus a small atol.</summary>
    public static void AssertMatches(Module model, byte[] onnx, Tensor input, string what)
    {
        float[] expected;
        using (model.Inference())
        {
            using var y = model.Forward(input);
            expected = y.Span.ToArray();
        }
        TensorAssert.Close(expected, Run(onnx, input), rtol: 1e-4, atol: 1e-5, what);
    }
}
