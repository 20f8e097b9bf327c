using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using TorchTensor = TorchSharp.torch.Tensor;

namespace Fovea.Bench.Peers;

/// <summary>
/// TorchSharp twin of Fovea's <see cref="Fovea.Nn.BasicBlock"/>: conv3×3-BN-ReLU-conv3×3-BN plus the
/// identity or a 1×1 strided conv + BN shortcut, then ReLU. Field names are the state-dict names.
/// </summary>
public sealed class TorchBasicBlock : nn.Module<TorchTensor, TorchTensor>
{
#pragma warning disable IDE1006 // TorchSharp registers fields under their own names: these must be PyTorch's
    private readonly Conv2d conv1, conv2;
    private readonly BatchNorm2d bn1, bn2;
    private readonly Sequential? downsample;
#pragma warning restore IDE1006

    public TorchBasicBlock(long inChannels, long outChannels, long stride) : base(nameof(TorchBasicBlock))
    {
        conv1 = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(outChannels);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, stride: 1, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(outChannels);
        if (stride != 1 || inChannels != outChannels)
            downsample = nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), nn.BatchNorm2d(outChannels));
        RegisterComponents();
    }

    public override TorchTensor forward(TorchTensor input)
    {
        var h = nn.functional.relu(bn1.call(conv1.call(input)));
        h = bn2.call(conv2.call(h));
        var shortcut = downsample?.call(input) ?? input;
        return nn.functional.relu(h + shortcut);
    }
}
