using static Fovea.Optim.StateDictText;

namespace Fovea.Optim;

/// <summary>Multiplies the rate by <see cref="Gamma"/> every <see cref="StepSize"/> steps (usually epochs): lr₀·γ^⌊t / stepSize⌋.</summary>
public sealed class StepLR : LrScheduler
{
    public StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1) : base(optimizer)
    {
        if (stepSize <= 0) throw new ArgumentException($"StepLR: stepSize must be positive. Received: {stepSize}");
        if (!(gamma >= 0) || double.IsPositiveInfinity(gamma)) throw new ArgumentException($"StepLR: gamma must be a finite non-negative number. Received: {gamma}");
        StepSize = stepSize;
        Gamma = gamma;
        Start();
    }

    public int StepSize { get; }
    public double Gamma { get; }

    protected override double Compute(int step) => BaseLearningRate * Math.Pow(Gamma, step / StepSize);

    protected override void WriteConfiguration(Dictionary<string, string> state)
    {
        state["base_lr"] = Format(BaseLearningRate);
        state["step_size"] = Format(StepSize);
        state["gamma"] = Format(Gamma);
    }
}
