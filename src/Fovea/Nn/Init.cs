namespace Fovea.Nn;

/// <summary>
/// PyTorch's default initialisations, drawn from an explicit <see cref="Rng"/>. Layers built without
/// one draw from <see cref="Global"/>, which <see cref="ManualSeed"/> resets (like torch.manual_seed).
/// </summary>
public static class Init
{
    /// <summary>The generator layers use when none is passed. Seeded with 0 at start-up.</summary>
    public static Rng Global { get; private set; } = new(0);

    public static void ManualSeed(ulong seed) => Global = new Rng(seed);

    /// <summary>
    /// PyTorch's default for Conv and Linear weights: kaiming_uniform_(a = √5), i.e. U(−b, b) with
    /// b = gain·√(3 / fan_in), gain = √(2 / (1 + a²)) = √(1/3); so b = 1/√fan_in.
    /// </summary>
    public static void KaimingUniform(Tensor weight, int fanIn, Rng rng, double a = 2.23606797749979)
    {
        double gain = Math.Sqrt(2.0 / (1 + a * a));
        float bound = (float)(gain * Math.Sqrt(3.0 / fanIn));
        Uniform(weight, -bound, bound, rng);
    }

    /// <summary>PyTorch's default bias: U(−1/√fan_in, 1/√fan_in).</summary>
    public static void BiasUniform(Tensor bias, int fanIn, Rng rng)
    {
        float bound = fanIn > 0 ? (float)(1.0 / Math.Sqrt(fanIn)) : 0f;
        Uniform(bias, -bound, bound, rng);
    }

    public static void Uniform(Tensor t, float low, float high, Rng rng)
    {
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = low + (high - low) * rng.NextFloat();
    }
}
