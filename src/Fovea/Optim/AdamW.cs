using Fovea.Nn;

namespace Fovea.Optim;

/// <summary>
/// AdamW, torch.optim.AdamW's algorithm: Adam with decoupled weight decay. Each step first shrinks
/// p to (1 − lr·λ)·p, then takes Adam's step on the raw gradient, so the decay is not rescaled by
/// the adaptive denominator.
/// </summary>
public sealed class AdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false)
    : Adam(parameters, lr, beta1, beta2, eps, weightDecay, amsgrad, decoupledWeightDecay: true);
