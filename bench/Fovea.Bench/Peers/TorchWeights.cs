using Fovea.Nn;
using static TorchSharp.torch;
using TorchTensor = TorchSharp.torch.Tensor;

namespace Fovea.Bench.Peers;

/// <summary>Copies a Fovea model's state dict into its TorchSharp twin, checking that both have the same keys and shapes.</summary>
public static class TorchWeights
{
    public static void CopyFrom(nn.Module<TorchTensor, TorchTensor> target, Module source)
    {
        var fovea = source.StateDict();
        var torchState = target.state_dict();
        var missing = fovea.Keys.Except(torchState.Keys).Concat(torchState.Keys.Except(fovea.Keys)).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"TorchSharp twin of {source} differs in state-dict keys: {string.Join(", ", missing)}");
        using var _ = no_grad();
        foreach (var (key, value) in torchState)
        {
            long[] shape = [.. fovea[key].Shape.ToArray().Select(d => (long)d)];
            if (!value.shape.SequenceEqual(shape))
                throw new InvalidOperationException($"TorchSharp twin of {source}: '{key}' is [{string.Join(", ", value.shape)}] in TorchSharp, {fovea[key].Shape} in Fovea");
            using var values = tensor(fovea[key].Span.ToArray(), shape).to(value.dtype);
            value.copy_(values);
        }
    }
}
