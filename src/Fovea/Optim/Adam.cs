using System.Numerics;
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

    protected sealed override int ScratchVectors => 0;

    /// <summary>Elements per thread below which splitting the update costs more than it saves.</summary>
    private const int MinPerThread = 1 << 15;

    // One pass over the four arrays instead of ten, split across cores for large parameters. Each element
    // goes through exactly the float operations, in the order, of torch's step (multiply, then add: no
    // fused multiply-add), so the result does not depend on the split.
    protected sealed override unsafe void Update(Span<float> param, ReadOnlySpan<float> grad, Tensor[] state, long step, Span<float> scratch)
    {
        // Scalars in double, as PyTorch computes them in Python before the float32 kernels.
        double biasCorrection1 = 1 - Math.Pow(Beta1, step);
        double biasCorrection2 = 1 - Math.Pow(Beta2, step);
        var k = new Coefficients(
            Decay: _decoupledWeightDecay ? (float)(1 - LearningRate * WeightDecay) : 1f,
            L2: _decoupledWeightDecay ? 0f : (float)WeightDecay,
            Beta1: (float)Beta1, OneMinusBeta1: (float)(1 - Beta1), Beta2: (float)Beta2, OneMinusBeta2: (float)(1 - Beta2),
            SqrtBiasCorrection2: (float)Math.Sqrt(biasCorrection2), Eps: (float)Eps, NegativeStepSize: (float)-(LearningRate / biasCorrection1));
        fixed (float* p = param, g = grad, m = state[0].Span, v = state[1].Span, vMax = Amsgrad ? state[2].Span : default)
        {
            if (Parallelism.ChunkCount(param.Length, MinPerThread) > 1) StepInParallel(p, g, m, v, Amsgrad ? vMax : null, param.Length, k);
            else Step(p, g, m, v, Amsgrad ? vMax : null, param.Length, k);
        }
    }

    // A separate method so that only large parameters pay for the closure.
    private static unsafe void StepInParallel(float* p, float* g, float* m, float* v, float* vMax, int count, Coefficients k)
    {
        nint pp = (nint)p, pg = (nint)g, pm = (nint)m, pv = (nint)v, pMax = (nint)vMax;
        Parallelism.For(count, (start, end) =>
            Step((float*)pp + start, (float*)pg + start, (float*)pm + start, (float*)pv + start, pMax == 0 ? null : (float*)pMax + start, end - start, k),
            MinPerThread);
    }

    private readonly record struct Coefficients(float Decay, float L2, float Beta1, float OneMinusBeta1, float Beta2, float OneMinusBeta2,
        float SqrtBiasCorrection2, float Eps, float NegativeStepSize);

    private static unsafe void Step(float* p, float* g, float* m, float* v, float* vMax, int count, Coefficients k)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int w = Vector<float>.Count;
            for (; i <= count - w; i += w)
            {
                var param = Vector.Load(p + i);
                var grad = Vector.Load(g + i);
                if (k.Decay != 1f) param *= k.Decay;
                if (k.L2 != 0f) grad = param * k.L2 + grad;
                var mean = Vector.Load(m + i) * k.Beta1;
                mean = grad * k.OneMinusBeta1 + mean;
                var square = Vector.Load(v + i) * k.Beta2;
                square = grad * grad * k.OneMinusBeta2 + square;
                Vector.Store(mean, m + i);
                Vector.Store(square, v + i);
                if (vMax != null)
                {
                    square = Vector.Max(Vector.Load(vMax + i), square);
                    Vector.Store(square, vMax + i);
                }
                var denominator = Vector.SquareRoot(square) / new Vector<float>(k.SqrtBiasCorrection2) + new Vector<float>(k.Eps);
                Vector.Store(mean / denominator * k.NegativeStepSize + param, p + i);
            }
        }
        for (; i < count; i++)
        {
            float param = p[i], grad = g[i];
            if (k.Decay != 1f) param *= k.Decay;
            if (k.L2 != 0f) grad = param * k.L2 + grad;
            float mean = m[i] * k.Beta1;
            mean = grad * k.OneMinusBeta1 + mean;
            float square = v[i] * k.Beta2;
            square = grad * grad * k.OneMinusBeta2 + square;
            m[i] = mean;
            v[i] = square;
            if (vMax != null) square = vMax[i] = Math.Max(vMax[i], square);
            float denominator = MathF.Sqrt(square) / k.SqrtBiasCorrection2 + k.Eps;
            p[i] = mean / denominator * k.NegativeStepSize + param;
        }
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
