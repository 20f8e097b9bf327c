using System.Numerics.Tensors;
using Fovea.Nn;
using static Fovea.Optim.StateDictText;

namespace Fovea.Optim;

/// <summary>
/// Adam, torch.optim.Adam's algorithm step for step: g = g + λ·p (L2 weight decay, coupled to the
/// gradient); m = β₁·m + (1 − β₁)·g; v = β₂·v + (1 − β₂)·g²; with AMSGrad v̂ = max(v̂, v), else v̂ = v;
/// p = p − lr / (1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε). ε is added after the bias correction, as
/// PyTorch places it.
/// </summary>
public class Adam : Optimizer
{
    private readonly bool _decoupledWeightDecay;

    public Adam(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false)
        : this(parameters, lr, beta1, beta2, eps, weightDecay, amsgrad, decoupledWeightDecay: false) { }

    // decoupledWeightDecay (AdamW): shrink p by lr·λ before the step instead of adding λ·p to the gradient.
    private protected Adam(IEnumerable<Parameter> parameters, double lr, double beta1, double beta2, double eps, double weightDecay, bool amsgrad, bool decoupledWeightDecay)
        : base(parameters, lr, amsgrad ? ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["exp_avg", "exp_avg_sq"])
    {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
            throw new ArgumentException($"{Name}: betas must lie in [0, 1). Received: beta1 {beta1}, beta2 {beta2}");
        RequireNonNegative("eps", eps);
        RequireNonNegative("weight decay", weightDecay);
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        Amsgrad = amsgrad;
        _decoupledWeightDecay = decoupledWeightDecay;
    }

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double WeightDecay { get; }
    public bool Amsgrad { get; }

    protected sealed override int ScratchVectors => 2;

    protected sealed override void Update(Span<float> param, ReadOnlySpan<float> grad, Tensor[] state, long step, Span<float> scratch)
    {
        var decayedGrad = scratch[..param.Length];
        var work = scratch[param.Length..];
        if (_decoupledWeightDecay) TensorPrimitives.Multiply(param, (float)(1 - LearningRate * WeightDecay), param);
        else if (WeightDecay != 0)
        {
            TensorPrimitives.MultiplyAdd(param, (float)WeightDecay, grad, decayedGrad);
            grad = decayedGrad;
        }

        var expAvg = state[0].Span;
        var expAvgSq = state[1].Span;
        TensorPrimitives.Multiply(expAvg, (float)Beta1, expAvg);
        TensorPrimitives.MultiplyAdd(grad, (float)(1 - Beta1), expAvg, expAvg);
        TensorPrimitives.Multiply(expAvgSq, (float)Beta2, expAvgSq);
        TensorPrimitives.Multiply(grad, grad, work);
        TensorPrimitives.MultiplyAdd(work, (float)(1 - Beta2), expAvgSq, expAvgSq);
        ReadOnlySpan<float> secondMoment = expAvgSq;
        if (Amsgrad)
        {
            var maxExpAvgSq = state[2].Span;
            TensorPrimitives.Max(maxExpAvgSq, expAvgSq, maxExpAvgSq);
            secondMoment = maxExpAvgSq;
        }

        // Scalars in double, as PyTorch computes them in Python before the float32 kernels.
        double biasCorrection1 = 1 - Math.Pow(Beta1, step);
        double biasCorrection2 = 1 - Math.Pow(Beta2, step);
        double stepSize = LearningRate / biasCorrection1;
        TensorPrimitives.Sqrt(secondMoment, work);
        TensorPrimitives.Divide(work, (float)Math.Sqrt(biasCorrection2), work);
        TensorPrimitives.Add(work, (float)Eps, work);
        TensorPrimitives.Divide(expAvg, work, work);
        TensorPrimitives.MultiplyAdd(work, (float)-stepSize, param, param);
    }

    protected sealed override void WriteHyperparameters(Dictionary<string, string> metadata)
    {
        metadata["beta1"] = Format(Beta1);
        metadata["beta2"] = Format(Beta2);
        metadata["eps"] = Format(Eps);
        metadata["weight_decay"] = Format(WeightDecay);
        metadata["amsgrad"] = Format(Amsgrad);
    }
}
