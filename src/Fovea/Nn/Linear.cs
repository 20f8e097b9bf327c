using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>Fully connected layer y = x·Wᵀ + b, weight [out, in] as in PyTorch.</summary>
public sealed class Linear : Module
{
    public int InFeatures { get; }
    public int OutFeatures { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public Linear(int inFeatures, int outFeatures, bool bias = true, Rng? rng = null)
    {
        if (inFeatures <= 0 || outFeatures <= 0) throw new ArgumentException($"Linear: features must be positive. Received in={inFeatures}, out={outFeatures}");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        rng ??= Init.Global;
        Weight = RegisterParameter("weight", new Parameter(new TensorShape(outFeatures, inFeatures)))!;
        Init.KaimingUniform(Weight, inFeatures, rng);
        Bias = RegisterParameter("bias", bias ? new Parameter(new TensorShape(outFeatures)) : null);
        if (Bias is not null) Init.BiasUniform(Bias, inFeatures, rng);
    }

    public override Tensor Forward(Tensor input) => F.Linear(input, Weight, Bias);

    public override string ToString() => $"Linear({InFeatures}→{OutFeatures})";

    public override JsonObject ToSpec() => new() { ["type"] = nameof(Linear), ["in_features"] = InFeatures, ["out_features"] = OutFeatures, ["bias"] = Bias is not null };

    public static Linear FromSpec(JsonObject spec, Rng rng) =>
        new(ModuleSpec.Int(spec, "in_features"), ModuleSpec.Int(spec, "out_features"), ModuleSpec.Bool(spec, "bias", true), rng);
}
