using Fovea.Nn;

namespace Fovea.Tests.Onnx;

internal static class ExportTestModels
{
    /// <summary>Fresh batch norms are the identity in eval mode; random parameters and statistics make them count.</summary>
    public static void RandomizeBatchNorm(Module model, Rng rng)
    {
        foreach (var (_, module) in model.NamedModules())
        {
            if (module is not BatchNormBase bn) continue;
            foreach (var (tensor, low, high) in new[] { (bn.Weight, 0.5f, 1.5f), (bn.Bias, -0.3f, 0.3f), (bn.RunningMean, -0.3f, 0.3f), (bn.RunningVar, 0.3f, 2f) })
            {
                if (tensor is null) continue;
                var span = tensor.Span;
                for (int i = 0; i < span.Length; i++) span[i] = low + (high - low) * rng.NextFloat();
            }
        }
    }
}
