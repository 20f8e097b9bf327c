namespace Fovea;

public static partial class F
{
    private const double InvSqrt2 = 0.70710678118654752440;
    private const double InvSqrt2Pi = 0.39894228040143267794;
    private const double SqrtTwoOverPi = 0.79788456080286535588;
    private const double GeluTanhCubic = 0.044715;

    /// <summary>
    /// x·Φ(x), Φ the standard normal CDF (<paramref name="approximate"/> = "none", PyTorch's default),
    /// or PyTorch's tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) ("tanh").
    /// </summary>
    public static Tensor Gelu(Tensor x, string approximate = "none")
    {
        bool useTanh = approximate switch
        {
            "none" => false,
            "tanh" => true,
            _ => throw new ArgumentException($"Gelu: approximate must be \"none\" or \"tanh\". Received \"{approximate}\""),
        };
        var y = Tensor.Empty(x.Shape);
        float[] xs = x.Data, ys = y.Data;
        // Scalar double arithmetic on purpose: erf has no vector form here, and double keeps the exact
        // form within a float ulp of PyTorch; exp dominates the cost either way.
        Elementwise(x.Length, (start, end) =>
        {
            for (int i = start; i < end; i++) ys[i] = (float)(useTanh ? GeluTanh(xs[i]) : xs[i] * NormalCdf(xs[i]));
        });
        return Autograd.Record(y, "Gelu", [x], dy =>
        {
            float[] g = dy.Data, gx = GradData(x);
            Elementwise(x.Length, (start, end) =>
            {
                for (int i = start; i < end; i++) gx[i] += (float)(g[i] * (useTanh ? GeluTanhDerivative(xs[i]) : GeluExactDerivative(xs[i])));
            });
        });
    }

    private static double GeluTanh(double x) => 0.5 * x * (1 + Math.Tanh(SqrtTwoOverPi * (x + GeluTanhCubic * x * x * x)));

    private static double GeluTanhDerivative(double x)
    {
        double t = Math.Tanh(SqrtTwoOverPi * (x + GeluTanhCubic * x * x * x));
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SqrtTwoOverPi * (1 + 3 * GeluTanhCubic * x * x);
    }

    // d/dx x·Φ(x) = Φ(x) + x·φ(x).
    private static double GeluExactDerivative(double x) => NormalCdf(x) + x * InvSqrt2Pi * Math.Exp(-0.5 * x * x);

    /// <summary>Φ(x) = erfc(−x/√2)/2; through erfc so the far negative tail keeps its relative accuracy.</summary>
    private static double NormalCdf(double x) => 0.5 * Erfc(-x * InvSqrt2);

    /// <summary>
    /// Complementary error function with relative error below 1.2e-7 everywhere (Numerical Recipes'
    /// Chebyshev fit), i.e. erf to within one float ulp. .NET has no Math.Erf.
    /// </summary>
    private static double Erfc(double x)
    {
        double z = Math.Abs(x), t = 1 / (1 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
