namespace Fovea.Bench.Measurement;

/// <summary>One framework's way of doing one step of a row's work (a training step, a forward pass, a GEMM).</summary>
public sealed record Contestant(string Framework, Action Step);

/// <summary>The frameworks a row can compare; Fovea is always the first.</summary>
public static class Frameworks
{
    public const string Fovea = "Fovea", Torch = "TorchSharp", Ort = "ONNX Runtime";
    public static readonly string[] Peers = [Torch, Ort];
}
