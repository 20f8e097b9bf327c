using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>
/// The residual block of CIFAR ResNets (He et al. 2016): conv3×3-BN-ReLU-conv3×3-BN, plus a shortcut,
/// then ReLU. The shortcut is the identity, or a 1×1 strided conv + BN ("option B") when the shape
/// changes. Member names match torchvision's BasicBlock (conv1, bn1, conv2, bn2, downsample.0/.1).
/// </summary>
public sealed class BasicBlock : Module
{
    public int InChannels { get; }
    public int OutChannels { get; }
    public int Stride { get; }

    private readonly Conv2d _conv1, _conv2;
    private readonly BatchNorm2d _bn1, _bn2;
    private readonly Sequential? _downsample;

    public BasicBlock(int inChannels, int outChannels, int stride = 1, Rng? rng = null)
    {
        rng ??= Init.Global;
        InChannels = inChannels;
        OutChannels = outChannels;
        Stride = stride;
        _conv1 = RegisterModule("conv1", new Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false, rng: rng));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(outChannels));
        _conv2 = RegisterModule("conv2", new Conv2d(outChannels, outChannels, 3, stride: 1, padding: 1, bias: false, rng: rng));
        _bn2 = RegisterModule("bn2", new BatchNorm2d(outChannels));
        if (stride != 1 || inChannels != outChannels)
            _downsample = RegisterModule("downsample", new Sequential(
                new Conv2d(inChannels, outChannels, 1, stride: stride, bias: false, rng: rng),
                new BatchNorm2d(outChannels)));
    }

    /// <summary>
    /// The block, with bn1's ReLU and the final add + ReLU as fused ops; under no-grad every intermediate is
    /// freed once consumed (see <see cref="Sequential.Forward"/>).
    /// </summary>
    public override Tensor Forward(Tensor input)
    {
        var h = Then(input, _conv1.Forward(input), input);
        h = Then(h, _bn1.ForwardRelu(h), input);
        h = Then(h, _conv2.Forward(h), input);
        h = Then(h, _bn2.Forward(h), input);
        var shortcut = _downsample?.Forward(input) ?? input;
        var y = F.AddRelu(h, shortcut);
        Sequential.FreeConsumed(h, y, input);
        Sequential.FreeConsumed(shortcut, y, input);
        return y;

        static Tensor Then(Tensor consumed, Tensor produced, Tensor input)
        {
            Sequential.FreeConsumed(consumed, produced, input);
            return produced;
        }
    }

    public override string ToString() => $"BasicBlock({InChannels}→{OutChannels}, s={Stride})";

    public override JsonObject ToSpec() => new() { ["type"] = nameof(BasicBlock), ["in_channels"] = InChannels, ["out_channels"] = OutChannels, ["stride"] = Stride };

    public static BasicBlock FromSpec(JsonObject spec, Rng rng) =>
        new(ModuleSpec.Int(spec, "in_channels"), ModuleSpec.Int(spec, "out_channels"), ModuleSpec.Int(spec, "stride", 1), rng);
}
