using Fovea;
using Xunit.Sdk;

namespace Fovea.Tests.Support;

/// <summary>
/// Finite-difference gradient check: the analytic gradient of L = Σ f(x)·g (g a fixed random
/// upstream gradient) against central differences (L(x + h) − L(x − h)) / 2h, evaluated in double
/// from float32 outputs. Inputs should keep clear of kinks (ReLU at 0, ties in max pooling).
/// </summary>
public static class GradCheck
{
    public static void Check(Func<Tensor[], Tensor> f, Tensor[] inputs, double eps = 1e-2, double rtol = 2e-2, double atol = 2e-3, ulong seed = 7, string what = "op")
    {
        foreach (var t in inputs) t.RequiresGrad = true;
        var y = f(inputs);
        var rng = new Rng(seed);
        var g = Tensor.Normal(y.Shape, 0, 1, rng);
        y.Backward(g);
        var analytic = inputs.Select(t => t.Grad?.ToArray() ?? new float[t.Length]).ToArray();

        using var _ = Autograd.NoGrad();
        for (int k = 0; k < inputs.Length; k++)
        {
            var x = inputs[k].Span;
            for (int i = 0; i < x.Length; i++)
            {
                float saved = x[i];
                x[i] = saved + (float)eps;
                double plus = Dot(f(inputs), g);
                x = inputs[k].Span;
                x[i] = saved - (float)eps;
                double minus = Dot(f(inputs), g);
                x = inputs[k].Span;
                x[i] = saved;
                double numeric = (plus - minus) / (2 * eps);
                double a = analytic[k][i];
                if (Math.Abs(a - numeric) > atol + rtol * Math.Abs(numeric))
                    throw new XunitException($"{what}: gradient of input {k} at {i}: analytic {a}, numeric {numeric}");
            }
        }
    }

    private static double Dot(Tensor y, Tensor g)
    {
        double s = 0;
        var ys = y.Span;
        var gs = g.Span;
        for (int i = 0; i < ys.Length; i++) s += (double)ys[i] * gs[i];
        return s;
    }
}
