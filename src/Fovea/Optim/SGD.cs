using System.Numerics.Tensors;
using Fovea.Nn;
using static Fovea.Optim.StateDictText;

namespace Fovea.Optim;

/// <summary>
/// Stochastic gradient descent, torch.optim.SGD's algorithm step for step:
/// d = g + λ·p; with momentum μ, b = d on a parameter's first step and b = μ·b + (1 − τ)·d after,
/// then d = d + μ·b (Nesterov) or d = b; finally p = p − lr·d.
/// </summary>
public sealed class SGD : Optimizer
{
    public SGD(IEnumerable<Parameter> parameters, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
        : base(parameters, lr, momentum != 0 ? ["momentum_buffer"] : [])
    {
        RequireNonNegative("momentum", momentum);
        RequireNonNegative("dampening", dampening);
        RequireNonNegative("weight decay", weightDecay);
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException($"SGD: Nesterov momentum needs momentum > 0 and dampening = 0. Received: momentum {momentum}, dampening {dampening}");
        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
    }

    public double Momentum { get; }
    public double Dampening { get; }
    public double WeightDecay { get; }
    public bool Nesterov { get; }

    protected override int ScratchVectors => 1;

    protected override void Update(Span<float> param, ReadOnlySpan<float> grad, Tensor[] state, long step, Span<float> scratch)
    {
        ReadOnlySpan<float> direction = grad;
        if (WeightDecay != 0)
        {
            TensorPrimitives.MultiplyAdd(param, (float)WeightDecay, grad, scratch);
            direction = scratch;
        }
        if (Momentum != 0)
        {
            var buffer = state[0].Span;
            // The first step starts the buffer at the gradient itself, not at a damped fraction of it.
            if (step == 1) direction.CopyTo(buffer);
            else
            {
                TensorPrimitives.Multiply(buffer, (float)Momentum, buffer);
                TensorPrimitives.MultiplyAdd(direction, (float)(1 - Dampening), buffer, buffer);
            }
            if (Nesterov)
            {
                TensorPrimitives.MultiplyAdd(buffer, (float)Momentum, direction, scratch);
                direction = scratch;
            }
            else direction = buffer;
        }
        TensorPrimitives.MultiplyAdd(direction, (float)-LearningRate, param, param);
    }

    protected override void WriteHyperparameters(Dictionary<string, string> metadata)
    {
        metadata["momentum"] = Format(Momentum);
        metadata["dampening"] = Format(Dampening);
        metadata["weight_decay"] = Format(WeightDecay);
        metadata["nesterov"] = Format(Nesterov);
    }
}
